import math
import random


def _shuffled(rng, pts):
    pts = [list(p) for p in pts]
    rng.shuffle(pts)
    return pts


def _clusters(rng, n, k):
    centres = [(rng.randint(100, 900), rng.randint(100, 900)) for _ in range(k)]
    out = set()
    while len(out) < n:
        cx, cy = rng.choice(centres)
        out.add((min(1000, max(0, int(rng.gauss(cx, 40)))), min(1000, max(0, int(rng.gauss(cy, 40))))))
    return sorted(out)


def _uniform(rng, n):
    out = set()
    while len(out) < n:
        out.add((rng.randint(0, 1000), rng.randint(0, 1000)))
    return sorted(out)


def cases():
    rng = random.Random(2003)
    circle = [(round(500 + 400 * math.cos(2 * math.pi * k / 80)), round(500 + 400 * math.sin(2 * math.pi * k / 80))) for k in range(80)]
    grid = [(40 * i, 40 * j) for i in range(10) for j in range(12)]
    rows = [
        ("uniform_1", _uniform(rng, 60)), ("uniform_2", _uniform(rng, 100)), ("uniform_3", _uniform(rng, 150)),
        ("clustered_1", _clusters(rng, 80, 4)), ("clustered_2", _clusters(rng, 120, 7)), ("clustered_3", _clusters(rng, 150, 10)),
        ("circle", circle), ("grid", grid),
        ("uniform_4", _uniform(rng, 120)), ("clustered_4", _clusters(rng, 100, 3)),
    ]
    hidden = {"uniform_3", "clustered_3", "grid"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "points": _shuffled(rng, p)}, "hidden": i in hidden}
        for i, p in rows
    ]


def finalize(instance, output):
    pts = instance["points"]
    length = sum(math.dist(pts[output[i - 1]], pts[output[i]]) for i in range(len(pts)))
    return {**instance, "best_known": length}
