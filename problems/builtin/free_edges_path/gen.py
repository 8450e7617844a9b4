import random


def _case(id, n, k, edges, **extra):
    body = "".join(f"{u} {v} {w}\n" for u, v, w in edges)
    return {"id": id, "input": f"{n} {len(edges)} {k}\n{body}", **extra}


def _random(rng, n, m, maxw):
    return [(rng.randint(1, n), rng.randint(1, n), rng.randint(1, maxw)) for _ in range(m)]


def _layered(rng, n, m, maxw):
    """Long cheap corridor 1 -> n; shortcuts pay off only with a coupon (many hops otherwise)."""
    edges = [(i, i + 1, rng.randint(1, 20)) for i in range(1, n)]
    while len(edges) < m:
        u = rng.randint(1, n - 1)
        span = rng.randint(2, 40)
        edges.append((u, min(n, u + span), min(maxw, 25 * span)))
    rng.shuffle(edges)
    return edges


def cases():
    rng = random.Random(404)
    return [
        _case("sample", 3, 1, [(1, 2, 5), (2, 3, 7), (1, 3, 20)]),
        _case("single_node", 1, 0, []),
        _case("unreachable", 4, 2, [(1, 2, 3), (3, 4, 3)]),
        _case("no_coupons", 4, 0, [(1, 2, 1), (2, 4, 1), (1, 4, 5)]),
        _case("all_free", 5, 10, [(1, 2, 9), (2, 3, 9), (3, 4, 9), (4, 5, 9)]),
        _case("multi_and_loops", 4, 1, [(1, 1, 1), (1, 2, 8), (1, 2, 3), (2, 2, 5), (2, 4, 7), (2, 4, 9), (3, 4, 1)]),
        _case("small_random", 12, 2, _random(rng, 12, 30, 50), hidden=True),
        _case("medium_random", 300, 3, _random(rng, 300, 900, 1000), hidden=True),
        _case("large_corridor", 5000, 4, _layered(rng, 5000, 12000, 1000), large=True, hidden=True),
        _case("large_random", 5000, 10, _random(rng, 5000, 12000, 1000)),
    ]
