import random


def _random_system(rng, n, m, lo, hi, weighted):
    sets = [sorted(rng.sample(range(n), rng.randint(lo, hi))) for _ in range(m)]
    for e in range(n):  # every element must be coverable
        if not any(e in s for s in sets):
            rng.choice(sets).append(e)
    sets = [sorted(set(s)) for s in sets]
    costs = [rng.randint(1, 20) if weighted else 1 for _ in range(m)]
    return sets, costs


def _planted(rng, n, parts, noise):
    elems = list(range(n))
    rng.shuffle(elems)
    size = n // parts
    sets = [sorted(elems[i * size : (i + 1) * size if i < parts - 1 else n]) for i in range(parts)]
    costs = [size for _ in range(parts)]
    for _ in range(noise):  # cheaper per element at first sight, but overlapping
        s = sorted(rng.sample(range(n), rng.randint(size // 3, size)))
        sets.append(s)
        costs.append(max(1, int(len(s) * rng.uniform(0.7, 1.1))))
    order = list(range(len(sets)))
    rng.shuffle(order)
    return [sets[i] for i in order], [costs[i] for i in order]


def cases():
    rng = random.Random(2008)
    rows = [
        ("unicost_1", 100, _random_system(rng, 100, 60, 5, 20, False)),
        ("unicost_2", 200, _random_system(rng, 200, 120, 5, 25, False)),
        ("weighted_1", 100, _random_system(rng, 100, 80, 5, 20, True)),
        ("weighted_2", 200, _random_system(rng, 200, 150, 3, 30, True)),
        ("planted_1", 120, _planted(rng, 120, 6, 60)),
        ("planted_2", 200, _planted(rng, 200, 10, 120)),
        ("varied_1", 150, _random_system(rng, 150, 100, 1, 60, True)),
        ("varied_2", 250, _random_system(rng, 250, 150, 2, 80, True)),
        ("unicost_3", 300, _random_system(rng, 300, 100, 10, 40, False)),
        ("weighted_3", 150, _random_system(rng, 150, 200, 2, 12, True)),
    ]
    hidden = {"unicost_3", "planted_2", "varied_2"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "n_elements": n, "sets": s, "costs": c}, "hidden": i in hidden}
        for i, n, (s, c) in rows
    ]


def finalize(instance, output):
    return {**instance, "best_known": sum(instance["costs"][i] for i in output)}
