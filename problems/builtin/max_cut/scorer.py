def score(instance, output):
    n = instance["n"]
    if type(output) not in (list, tuple) or len(output) != n:
        return 0.0
    if any(type(s) is not int or s not in (0, 1) for s in output):
        return 0.0
    value = sum(w for u, v, w in instance["edges"] if output[u] != output[v])
    return min(1.0, value / instance["best_known"])
