import math


def score(instance, output):
    """sum of radii / the record, validity recomputed here from the returned circles alone:
    every circle inside the unit square and no two overlapping, with no tolerance at all.  An
    invalid packing raises (scores 0); nothing the candidate reports about itself is read."""
    n = instance["n"]
    if type(output) not in (list, tuple) or len(output) != 2:
        raise ValueError("return (centers, radii)")
    centers, radii = output
    if type(centers) not in (list, tuple) or type(radii) not in (list, tuple):
        raise ValueError("centers and radii must be sequences")
    if len(centers) != n or len(radii) != n:
        raise ValueError(f"need exactly {n} circles, got {len(centers)} centers and {len(radii)} radii")
    circles = []
    for i, (c, r) in enumerate(zip(centers, radii)):
        if type(c) not in (list, tuple) or len(c) != 2:
            raise ValueError(f"center {i} is not an (x, y) pair")
        x, y = c
        if any(type(v) not in (int, float) or not math.isfinite(v) for v in (x, y, r)):
            raise ValueError(f"circle {i} has a non-finite or non-numeric value")
        if r < 0:
            raise ValueError(f"circle {i} has a negative radius")
        if x - r < 0 or x + r > 1 or y - r < 0 or y + r > 1:
            raise ValueError(f"circle {i} leaves the unit square")
        circles.append((x, y, r))
    for i in range(n):
        xi, yi, ri = circles[i]
        for j in range(i + 1, n):
            xj, yj, rj = circles[j]
            if (xi - xj) ** 2 + (yi - yj) ** 2 < (ri + rj) ** 2:
                raise ValueError(f"circles {i} and {j} overlap")
    return sum(r for _, _, r in circles) / instance["record"]
