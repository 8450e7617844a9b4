import math


def score(instance, output):
    pts = instance["points"]
    n = len(pts)
    if type(output) not in (list, tuple) or len(output) != n:
        return 0.0
    if any(type(i) is not int for i in output) or sorted(output) != list(range(n)):
        return 0.0
    length = sum(math.dist(pts[output[i - 1]], pts[output[i]]) for i in range(n))
    return min(1.0, instance["best_known"] / length) if length > 0 else 0.0
