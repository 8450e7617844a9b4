import math
import random


def _guillotine(rng, width, height, pieces):
    rects = [(width, height)]
    while len(rects) < pieces:
        rects.sort(key=lambda r: r[0] * r[1])
        w, h = rects.pop()  # cut the largest piece
        if (w >= h or h < 4) and w >= 4:
            cut = rng.randint(w // 4, w - w // 4)
            rects += [(cut, h), (w - cut, h)]
        elif h >= 4:
            cut = rng.randint(h // 4, h - h // 4)
            rects += [(w, cut), (w, h - cut)]
        else:
            rects.append((w, h))
            break
    rng.shuffle(rects)
    return [list(r) for r in rects]


def cases():
    rng = random.Random(2007)
    rows = [
        ("guillotine_1", 100, _guillotine(rng, 100, 120, 30)),
        ("guillotine_2", 100, _guillotine(rng, 100, 200, 60)),
        ("guillotine_3", 60, _guillotine(rng, 60, 150, 45)),
        ("random_1", 100, [[rng.randint(5, 50), rng.randint(5, 50)] for _ in range(40)]),
        ("random_2", 100, [[rng.randint(1, 70), rng.randint(1, 70)] for _ in range(70)]),
        ("tall_1", 100, [[rng.randint(3, 15), rng.randint(30, 90)] for _ in range(50)]),
        ("wide_1", 100, [[rng.randint(30, 90), rng.randint(3, 15)] for _ in range(50)]),
        ("mixed_1", 80, [[rng.randint(3, 15), rng.randint(30, 90)] if rng.random() < 0.5 else [rng.randint(30, 80), rng.randint(3, 15)] for _ in range(60)]),
        ("random_3", 50, [[rng.randint(1, 25), rng.randint(1, 25)] for _ in range(80)]),
        ("guillotine_4", 100, _guillotine(rng, 100, 100, 80)),
    ]
    hidden = {"guillotine_3", "random_3", "mixed_1"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "width": w, "rects": r}, "hidden": i in hidden}
        for i, w, r in rows
    ]


def finalize(instance, output):
    rects, width = instance["rects"], instance["width"]
    bound = max(math.ceil(sum(w * h for w, h in rects) / width), max(h for _, h in rects))
    height = max(p[1] + r[1] for p, r in zip(output, rects))
    return {**instance, "lower_bound": bound, "best_known": height}
