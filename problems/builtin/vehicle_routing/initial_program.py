# EVOLVE-BLOCK-START
def routes(instance: dict) -> list[list[int]]:
    """One vehicle per customer."""
    return [[c] for c in range(len(instance["customers"]))]
# EVOLVE-BLOCK-END
