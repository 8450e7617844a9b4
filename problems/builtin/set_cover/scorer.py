def score(instance, output):
    """best_known / cost, capped at 1; a selection that does not cover raises, saying why."""
    sets, costs = instance["sets"], instance["costs"]
    if type(output) not in (list, tuple):
        raise ValueError(f"return a list of set indices; got {output!r:.60}")
    if any(type(i) is not int or not 0 <= i < len(sets) for i in output) or len(set(output)) != len(output):
        raise ValueError(f"indices must be distinct ints in 0..{len(sets) - 1}; got {output!r:.60}")
    covered = set()
    for i in output:
        covered.update(sets[i])
    if len(covered) != instance["n_elements"]:
        missing = instance["n_elements"] - len(covered)
        raise ValueError(f"{missing} of the {instance['n_elements']} elements are not covered")
    return min(1.0, instance["best_known"] / sum(costs[i] for i in output))
