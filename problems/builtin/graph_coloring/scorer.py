def score(instance, output):
    n = instance["n"]
    if type(output) not in (list, tuple) or len(output) != n:
        return 0.0
    if any(type(c) is not int or c < 0 for c in output):
        return 0.0
    if any(output[u] == output[v] for u, v in instance["edges"]):
        return 0.0
    return min(1.0, instance["best_known"] / len(set(output)))
