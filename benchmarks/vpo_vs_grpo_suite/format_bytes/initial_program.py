# EVOLVE-BLOCK-START
def format_bytes(n: int) -> str:
    return None
# EVOLVE-BLOCK-END
