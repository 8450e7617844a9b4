import math


def score(instance, output):
    """best_known / length of the candidate's tour, recomputed here from the points (no length
    the candidate reports is trusted); a tour that is not a permutation raises (scores 0)."""
    pts = instance["points"]
    n = len(pts)
    if type(output) not in (list, tuple) or len(output) != n:
        raise ValueError(f"need a tour of all {n} nodes")
    if any(type(v) is not int for v in output) or sorted(output) != list(range(n)):
        raise ValueError("the tour must visit every node exactly once")
    total = sum(math.dist(pts[output[i - 1]], pts[output[i]]) for i in range(n))
    return instance["best_known"] / total
