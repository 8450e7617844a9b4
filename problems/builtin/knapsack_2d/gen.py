import random


def _items(rng, n, kind):
    weights, values = [], []
    for _ in range(n):
        w1, w2 = rng.randint(1, 100), rng.randint(1, 100)
        if kind == "skewed":
            if rng.random() < 0.5:
                w1, w2 = rng.randint(60, 100), rng.randint(1, 15)
            else:
                w1, w2 = rng.randint(1, 15), rng.randint(60, 100)
        mean = (w1 + w2) / 2
        if kind == "uncorrelated":
            v = rng.randint(1, 100)
        elif kind == "weak":
            v = max(1, int(mean + rng.randint(-10, 10)))
        elif kind == "strong":
            v = int(mean + 10)
        else:
            v = rng.randint(20, 60)
        weights.append([w1, w2])
        values.append(v)
    return values, weights


def cases():
    rng = random.Random(2005)
    rows = [
        ("uncorrelated_1", 60, "uncorrelated", 0.3), ("uncorrelated_2", 100, "uncorrelated", 0.5),
        ("weak_1", 60, "weak", 0.3), ("weak_2", 100, "weak", 0.5),
        ("strong_1", 60, "strong", 0.3), ("strong_2", 100, "strong", 0.5), ("strong_3", 80, "strong", 0.25),
        ("skewed_1", 60, "skewed", 0.3), ("skewed_2", 100, "skewed", 0.4), ("uncorrelated_3", 80, "uncorrelated", 0.2),
    ]
    out = []
    for id, n, kind, tight in rows:
        values, weights = _items(rng, n, kind)
        cap = [int(tight * sum(w[0] for w in weights)), int(tight * sum(w[1] for w in weights))]
        inst = {"family": kind, "values": values, "weights": weights, "capacity": cap}
        out.append({"id": id, "instance": inst, "hidden": id in {"strong_3", "skewed_2", "uncorrelated_3"}})
    return out


def finalize(instance, output):
    return {**instance, "best_known": sum(instance["values"][i] for i in output)}
