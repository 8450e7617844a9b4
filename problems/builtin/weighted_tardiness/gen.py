import random


def _instance(rng, n, tf, rdd):
    """Potts & Van Wassenhove style: due dates in P*(1-TF-RDD/2) .. P*(1-TF+RDD/2)."""
    p = [rng.randint(1, 100) for _ in range(n)]
    w = [rng.randint(1, 10) for _ in range(n)]
    total = sum(p)
    lo, hi = max(0, int(total * (1 - tf - rdd / 2))), int(total * (1 - tf + rdd / 2))
    d = [rng.randint(lo, max(lo, hi)) or 1 for _ in range(n)]
    return {"processing": p, "weights": w, "due": d}


def cases():
    rng = random.Random(2010)
    rows = [
        ("loose_1", 30, 0.2, 0.6), ("loose_2", 40, 0.2, 0.8),
        ("medium_1", 30, 0.6, 0.4), ("medium_2", 40, 0.6, 0.6), ("medium_3", 50, 0.4, 0.4),
        ("tight_1", 30, 0.8, 0.2), ("tight_2", 40, 0.8, 0.4), ("tight_3", 50, 1.0, 0.2),
        ("spread_1", 40, 0.4, 1.0), ("spread_2", 50, 0.6, 1.0),
    ]
    hidden = {"medium_3", "tight_3", "spread_2"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], **_instance(rng, n, tf, rdd)}, "hidden": i in hidden}
        for i, n, tf, rdd in rows
    ]


def finalize(instance, output):
    p, w, d = instance["processing"], instance["weights"], instance["due"]
    t = total = 0
    for j in output:
        t += p[j]
        total += w[j] * max(0, t - d[j])
    return {**instance, "best_known": total}
