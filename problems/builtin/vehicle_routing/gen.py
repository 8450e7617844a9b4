import math
import random


def _uniform(rng, n):
    return [[rng.randint(0, 100), rng.randint(0, 100)] for _ in range(n)]


def _clustered(rng, n, k):
    centres = [(rng.randint(10, 90), rng.randint(10, 90)) for _ in range(k)]
    out = []
    for _ in range(n):
        cx, cy = rng.choice(centres)
        out.append([min(100, max(0, round(rng.gauss(cx, 6)))), min(100, max(0, round(rng.gauss(cy, 6))))])
    return out


def cases():
    rng = random.Random(2009)
    rows = [
        ("central_1", [50, 50], _uniform(rng, 30), 40), ("central_2", [50, 50], _uniform(rng, 50), 60),
        ("corner_1", [0, 0], _uniform(rng, 40), 50), ("corner_2", [0, 0], _uniform(rng, 60), 80),
        ("clustered_1", [50, 50], _clustered(rng, 40, 4), 50), ("clustered_2", [10, 90], _clustered(rng, 60, 5), 70),
        ("tight_1", [50, 50], _uniform(rng, 40), 18), ("tight_2", [50, 50], _clustered(rng, 50, 6), 20),
        ("central_3", [50, 50], _uniform(rng, 70), 100), ("corner_3", [100, 0], _clustered(rng, 45, 3), 45),
    ]
    out = []
    for id, depot, customers, cap in rows:
        demands = [rng.randint(1, 10) for _ in customers]
        inst = {"family": id.rsplit("_", 1)[0], "depot": depot, "customers": customers, "demands": demands, "capacity": cap}
        out.append({"id": id, "instance": inst, "hidden": id in {"central_3", "tight_2", "corner_3"}})
    return out


def finalize(instance, output):
    depot, pts = instance["depot"], instance["customers"]
    cost = 0.0
    for route in output:
        path = [depot] + [pts[c] for c in route] + [depot]
        cost += sum(math.dist(path[i], path[i + 1]) for i in range(len(path) - 1))
    return {**instance, "best_known": cost}
