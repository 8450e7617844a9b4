# EVOLVE-BLOCK-START
def tour(instance: dict) -> list[int]:
    """Visit the points in the order given."""
    return list(range(len(instance["points"])))
# EVOLVE-BLOCK-END
