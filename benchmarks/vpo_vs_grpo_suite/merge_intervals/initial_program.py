# EVOLVE-BLOCK-START
def merge(intervals: list[list[int]]) -> list[list[int]]:
    return None
# EVOLVE-BLOCK-END
