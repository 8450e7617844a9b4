# EVOLVE-BLOCK-START
def median(xs: list[int]):
    return None
# EVOLVE-BLOCK-END
