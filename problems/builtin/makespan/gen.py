import math
import random


def _planted(rng, m, target, parts):
    times = []
    for _ in range(m):  # cut [0, target] at random points: each machine sums to target
        cuts = sorted(rng.sample(range(1, target), parts - 1))
        times += [b - a for a, b in zip([0] + cuts, cuts + [target])]
    rng.shuffle(times)
    return times


def cases():
    rng = random.Random(2002)
    rows = [
        ("uniform_1", 5, [rng.randint(1, 100) for _ in range(40)]),
        ("uniform_2", 12, [rng.randint(1, 100) for _ in range(150)]),
        ("uniform_3", 3, [rng.randint(10, 1000) for _ in range(30)]),
        ("planted_1", 6, _planted(rng, 6, 1000, 5)),
        ("planted_2", 10, _planted(rng, 10, 997, 7)),
        ("planted_3", 20, _planted(rng, 20, 500, 4)),
        ("huge_jobs", 8, [rng.randint(1, 20) for _ in range(120)] + [rng.randint(150, 300) for _ in range(5)]),
        ("heavy_tail_1", 7, [int(10 / rng.random() ** 0.8) for _ in range(80)]),
        ("heavy_tail_2", 15, [int(5 / rng.random() ** 0.7) for _ in range(200)]),
        ("two_machines", 2, [rng.randint(100, 10**5) for _ in range(35)]),
    ]
    hidden = {"planted_3", "heavy_tail_2", "uniform_3"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "machines": m, "times": t}, "hidden": i in hidden}
        for i, m, t in rows
    ]


def finalize(instance, output):
    times, m = instance["times"], instance["machines"]
    loads = [0] * m
    for k, t in zip(output, times):
        loads[k] += t
    bound = max(math.ceil(sum(times) / m), max(times))
    return {**instance, "lower_bound": bound, "best_known": max(loads)}
