import random


def _gnp(rng, n, p):
    return [[u, v] for u in range(n) for v in range(u + 1, n) if rng.random() < p]


def _planted(rng, n, k, p):
    part = [rng.randrange(k) for _ in range(n)]
    return [[u, v] for u in range(n) for v in range(u + 1, n) if part[u] != part[v] and rng.random() < p]


def _queens(size):
    cells = [(r, c) for r in range(size) for c in range(size)]
    edges = []
    for i, (r1, c1) in enumerate(cells):
        for j in range(i + 1, len(cells)):
            r2, c2 = cells[j]
            if r1 == r2 or c1 == c2 or abs(r1 - r2) == abs(c1 - c2):
                edges.append([i, j])
    return edges


def _geometric(rng, n, radius):
    pts = [(rng.random(), rng.random()) for _ in range(n)]
    return [[u, v] for u in range(n) for v in range(u + 1, n)
            if (pts[u][0] - pts[v][0]) ** 2 + (pts[u][1] - pts[v][1]) ** 2 < radius ** 2]


def _relabel(rng, n, edges):
    perm = list(range(n))
    rng.shuffle(perm)
    out = [[perm[u], perm[v]] for u, v in edges]
    rng.shuffle(out)
    return out


def cases():
    rng = random.Random(2006)
    rows = [
        ("sparse_1", 80, _gnp(rng, 80, 0.1)), ("sparse_2", 120, _gnp(rng, 120, 0.08)),
        ("dense_1", 60, _gnp(rng, 60, 0.5)), ("dense_2", 80, _gnp(rng, 80, 0.4)),
        ("planted_1", 90, _planted(rng, 90, 5, 0.5)), ("planted_2", 100, _planted(rng, 100, 8, 0.6)),
        ("queens_1", 49, _queens(7)), ("queens_2", 64, _queens(8)),
        ("geometric_1", 100, _geometric(rng, 100, 0.18)), ("geometric_2", 120, _geometric(rng, 120, 0.15)),
    ]
    hidden = {"sparse_2", "planted_2", "geometric_2"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "n": n, "edges": _relabel(rng, n, e)}, "hidden": i in hidden}
        for i, n, e in rows
    ]


def finalize(instance, output):
    return {**instance, "best_known": len(set(output))}
