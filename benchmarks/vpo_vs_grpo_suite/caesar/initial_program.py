# EVOLVE-BLOCK-START
def caesar(s: str, k: int) -> str:
    return None
# EVOLVE-BLOCK-END
