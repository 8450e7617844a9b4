# EVOLVE-BLOCK-START
def mode(xs: list[int]):
    return None
# EVOLVE-BLOCK-END
