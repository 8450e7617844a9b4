import math


def score(instance, output):
    """best_known / tour length, capped at 1; an output that is not a tour raises, saying why
    (the judge scores it 0 and the prompt shows the reason)."""
    pts = instance["points"]
    n = len(pts)
    if type(output) not in (list, tuple) or len(output) != n:
        raise ValueError(f"return a list of the {n} point indices (ints 0..{n - 1}); got {output!r:.60}")
    if any(type(i) is not int for i in output) or sorted(output) != list(range(n)):
        raise ValueError(f"the tour must hold each index 0..{n - 1} exactly once; got {output!r:.60}")
    length = sum(math.dist(pts[output[i - 1]], pts[output[i]]) for i in range(n))
    return min(1.0, instance["best_known"] / length) if length > 0 else 0.0
