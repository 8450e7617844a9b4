# EVOLVE-BLOCK-START
def cut(instance: dict) -> list[int]:
    """Alternate sides by vertex number."""
    return [v % 2 for v in range(instance["n"])]
# EVOLVE-BLOCK-END
