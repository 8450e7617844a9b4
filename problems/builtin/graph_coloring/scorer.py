def score(instance, output):
    """best_known / colours used, capped at 1; an invalid colouring raises, saying why."""
    n = instance["n"]
    if type(output) not in (list, tuple) or len(output) != n:
        raise ValueError(f"return one colour per vertex ({n} ints); got {output!r:.60}")
    if any(type(c) is not int or c < 0 for c in output):
        raise ValueError(f"colours must be ints >= 0; got {output!r:.60}")
    clash = next(((u, v) for u, v in instance["edges"] if output[u] == output[v]), None)
    if clash is not None:
        raise ValueError(f"adjacent vertices {clash[0]} and {clash[1]} share colour {output[clash[0]]}")
    return min(1.0, instance["best_known"] / len(set(output)))
