def score(instance, output):
    """cut weight / best_known, capped at 1; an invalid partition raises, saying why."""
    n = instance["n"]
    if type(output) not in (list, tuple) or len(output) != n:
        raise ValueError(f"return one side (0 or 1) per vertex ({n} ints); got {output!r:.60}")
    if any(type(s) is not int or s not in (0, 1) for s in output):
        raise ValueError(f"every side must be the int 0 or 1; got {output!r:.60}")
    value = sum(w for u, v, w in instance["edges"] if output[u] != output[v])
    return min(1.0, value / instance["best_known"])
