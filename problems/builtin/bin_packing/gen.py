import math
import random


def _triplets(rng, cap, bins):
    sizes = []
    for _ in range(bins):  # three items in (cap/4, cap/2) that fill the bin exactly
        lo, hi = cap // 4 + 1, cap // 2 - 1
        a = rng.randint(lo + 10, hi - 10)
        b = rng.randint(max(lo, cap - a - hi), min(hi, cap - a - lo))
        sizes += [a, b, cap - a - b]
    rng.shuffle(sizes)
    return sizes


def cases():
    rng = random.Random(2001)
    rows = [
        ("uniform_1", 150, [rng.randint(20, 100) for _ in range(120)]),
        ("uniform_2", 150, [rng.randint(20, 100) for _ in range(250)]),
        ("triplets_1", 1000, _triplets(rng, 1000, 20)),
        ("triplets_2", 1000, _triplets(rng, 1000, 40)),
        ("triplets_3", 1000, _triplets(rng, 1000, 60)),
        ("small_items", 100, [rng.randint(1, 30) for _ in range(400)]),
        ("large_items", 1000, [rng.randint(250, 700) for _ in range(120)]),
        ("bimodal", 1000, [rng.choice([rng.randint(50, 150), rng.randint(450, 600)]) for _ in range(200)]),
        ("wide_1", 10000, [rng.randint(1, 10000) for _ in range(150)]),
        ("wide_2", 10000, [int(10000 * rng.random() ** 2) + 1 for _ in range(200)]),
    ]
    hidden = {"triplets_3", "wide_2", "bimodal"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "capacity": c, "sizes": s}, "hidden": i in hidden}
        for i, c, s in rows
    ]


def finalize(instance, output):
    bins = len(set(output))
    return {**instance, "lower_bound": math.ceil(sum(instance["sizes"]) / instance["capacity"]), "best_known": bins}
