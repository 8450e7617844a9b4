def score(instance, output):
    p, w, d = instance["processing"], instance["weights"], instance["due"]
    n = len(p)
    if type(output) not in (list, tuple) or len(output) != n:
        return 0.0
    if any(type(j) is not int for j in output) or sorted(output) != list(range(n)):
        return 0.0
    t = total = 0
    for j in output:
        t += p[j]
        total += w[j] * max(0, t - d[j])
    scale = sum(p)  # smoothing: one unit of weight late by the whole horizon
    return min(1.0, (instance["best_known"] + scale) / (total + scale))
