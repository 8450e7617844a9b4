def score(instance, output):
    """value / best_known, capped at 1; an invalid selection raises, saying why."""
    values, weights = instance["values"], instance["weights"]
    c1, c2 = instance["capacity"]
    if type(output) not in (list, tuple):
        raise ValueError(f"return a list of item indices; got {output!r:.60}")
    if any(type(i) is not int or not 0 <= i < len(values) for i in output) or len(set(output)) != len(output):
        raise ValueError(f"indices must be distinct ints in 0..{len(values) - 1}; got {output!r:.60}")
    w1, w2 = sum(weights[i][0] for i in output), sum(weights[i][1] for i in output)
    if w1 > c1 or w2 > c2:
        raise ValueError(f"the items weigh ({w1}, {w2}), over the capacity ({c1}, {c2})")
    return min(1.0, sum(values[i] for i in output) / instance["best_known"])
