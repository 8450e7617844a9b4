def score(instance, output):
    """Smoothed best_known / total weighted tardiness; an output that is not a job order raises."""
    p, w, d = instance["processing"], instance["weights"], instance["due"]
    n = len(p)
    if type(output) not in (list, tuple) or len(output) != n:
        raise ValueError(f"return an order of the {n} job indices (ints 0..{n - 1}); got {output!r:.60}")
    if any(type(j) is not int for j in output) or sorted(output) != list(range(n)):
        raise ValueError(f"the order must hold each job 0..{n - 1} exactly once; got {output!r:.60}")
    t = total = 0
    for j in output:
        t += p[j]
        total += w[j] * max(0, t - d[j])
    scale = sum(p)  # smoothing: one unit of weight late by the whole horizon
    return min(1.0, (instance["best_known"] + scale) / (total + scale))
