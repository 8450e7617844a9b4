def score(instance, output):
    sets, costs = instance["sets"], instance["costs"]
    if type(output) not in (list, tuple):
        return 0.0
    if any(type(i) is not int or not 0 <= i < len(sets) for i in output) or len(set(output)) != len(output):
        return 0.0
    covered = set()
    for i in output:
        covered.update(sets[i])
    if len(covered) != instance["n_elements"]:
        return 0.0
    return min(1.0, instance["best_known"] / sum(costs[i] for i in output))
