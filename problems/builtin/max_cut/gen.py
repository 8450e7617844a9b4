import random


def _gnp(rng, n, p, maxw):
    return [[u, v, rng.randint(1, maxw)] for u in range(n) for v in range(u + 1, n) if rng.random() < p]


def _torus(rng, rows, cols, maxw):
    edges = []
    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            edges.append([v, r * cols + (c + 1) % cols, rng.randint(1, maxw)])
            edges.append([v, ((r + 1) % rows) * cols + c, rng.randint(1, maxw)])
    return edges


def _planted(rng, n, p_cross, p_noise):
    side = [rng.randint(0, 1) for _ in range(n)]
    edges = []
    for u in range(n):
        for v in range(u + 1, n):
            p = p_cross if side[u] != side[v] else p_noise
            if rng.random() < p:
                edges.append([u, v, rng.randint(1, 10)])
    return edges


def _relabel(rng, n, edges):
    perm = list(range(n))
    rng.shuffle(perm)
    out = [[perm[u], perm[v], w] for u, v, w in edges]
    rng.shuffle(out)
    return out


def cases():
    rng = random.Random(2004)
    rows = [
        ("sparse_1", 80, _gnp(rng, 80, 0.06, 1)), ("sparse_2", 120, _gnp(rng, 120, 0.04, 10)),
        ("dense_1", 60, _gnp(rng, 60, 0.5, 1)), ("dense_2", 90, _gnp(rng, 90, 0.3, 10)),
        ("torus_even", 100, _torus(rng, 10, 10, 1)), ("torus_odd", 99, _torus(rng, 9, 11, 5)),
        ("planted_1", 80, _planted(rng, 80, 0.15, 0.03)), ("planted_2", 120, _planted(rng, 120, 0.1, 0.04)),
        ("sparse_3", 150, _gnp(rng, 150, 0.03, 3)), ("dense_3", 70, _gnp(rng, 70, 0.7, 3)),
    ]
    hidden = {"sparse_3", "dense_3", "torus_odd"}
    return [
        {"id": i, "instance": {"family": i.rsplit("_", 1)[0], "n": n, "edges": _relabel(rng, n, e)}, "hidden": i in hidden}
        for i, n, e in rows
    ]


def finalize(instance, output):
    value = sum(w for u, v, w in instance["edges"] if output[u] != output[v])
    return {**instance, "upper_bound": sum(w for _, _, w in instance["edges"]), "best_known": value}
