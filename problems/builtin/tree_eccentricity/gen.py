import random


def _case(id, n, edges, rng=None, **extra):
    if rng is not None:  # hide the structure: relabel nodes, shuffle edges and endpoints
        perm = list(range(1, n + 1))
        rng.shuffle(perm)
        edges = [(perm[u - 1], perm[v - 1], w) if rng.random() < 0.5 else (perm[v - 1], perm[u - 1], w) for u, v, w in edges]
        rng.shuffle(edges)
    body = "".join(f"{u} {v} {w}\n" for u, v, w in edges)
    return {"id": id, "input": f"{n}\n{body}", **extra}


def _random_tree(rng, n, maxw, depth_bias):
    # parent chosen among the last `depth_bias` nodes: small bias -> long paths
    return [(i, rng.randint(max(1, i - depth_bias), i - 1), rng.randint(1, maxw)) for i in range(2, n + 1)]


def cases():
    rng = random.Random(303)
    path_unit = [(i, i + 1, 1) for i in range(1, 30)]
    star = [(1, i, i) for i in range(2, 12)]
    # unit-count trap: a long light branch and a short heavy one
    trap = [(1, 2, 1), (2, 3, 1), (3, 4, 1), (4, 5, 1), (1, 6, 50), (1, 7, 50)]
    caterpillar = [(i, i + 1, 3) for i in range(1, 5000)] + [(i, 5000 + i, rng.randint(1, 1000)) for i in range(1, 5000)]
    return [
        _case("sample", 3, [(1, 2, 2), (2, 3, 5)]),
        _case("single", 1, []),
        _case("two", 2, [(2, 1, 1000)]),
        _case("star", 11, star, rng),
        _case("path_unit", 30, path_unit, rng),
        _case("heavy_trap", 7, trap),
        _case("small_random", 40, _random_tree(rng, 40, 20, 5), rng, hidden=True),
        _case("medium_random", 1500, _random_tree(rng, 1500, 1000, 1500), rng, hidden=True),
        _case("large_path", 15000, [(i, i + 1, rng.randint(1, 1000)) for i in range(1, 15000)], rng, large=True, hidden=True),
        _case("large_deep", 15000, _random_tree(rng, 15000, 1000, 3), rng, large=True),
        _case("large_caterpillar", 9999, caterpillar, rng, large=True, hidden=True),
    ]
