# EVOLVE-BLOCK-START
def truncate(s: str, n: int) -> str:
    return None
# EVOLVE-BLOCK-END
