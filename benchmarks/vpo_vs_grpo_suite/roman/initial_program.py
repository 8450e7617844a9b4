# EVOLVE-BLOCK-START
def to_roman(n: int) -> str:
    return None
# EVOLVE-BLOCK-END
