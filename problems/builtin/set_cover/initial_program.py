# EVOLVE-BLOCK-START
def cover(instance: dict) -> list[int]:
    """For each uncovered element in turn, take the first set that contains it."""
    sets = instance["sets"]
    chosen, covered = [], set()
    for e in range(instance["n_elements"]):
        if e in covered:
            continue
        i = next(k for k, s in enumerate(sets) if e in s)
        chosen.append(i)
        covered.update(sets[i])
    return chosen
# EVOLVE-BLOCK-END
