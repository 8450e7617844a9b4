# EVOLVE-BLOCK-START
def rle(s: str) -> str:
    return None
# EVOLVE-BLOCK-END
