# EVOLVE-BLOCK-START
def ordinal(n: int) -> str:
    return None
# EVOLVE-BLOCK-END
