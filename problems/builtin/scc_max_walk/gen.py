import random


def _case(id, values, edges, rng=None, **extra):
    n = len(values)
    if rng is not None:
        perm = list(range(1, n + 1))
        rng.shuffle(perm)
        new_values = [0] * n
        for i, p in enumerate(perm):
            new_values[p - 1] = values[i]
        values, edges = new_values, [(perm[u - 1], perm[v - 1]) for u, v in edges]
        rng.shuffle(edges)
    body = "".join(f"{u} {v}\n" for u, v in edges)
    return {"id": id, "input": f"{n} {len(edges)}\n{' '.join(map(str, values))}\n{body}", **extra}


def _cycle_chain(rng, n, cycle):
    """Cycles of length `cycle` linked in a chain, plus noise edges pointing backwards."""
    edges = []
    for start in range(1, n + 1, cycle):
        end = min(n, start + cycle - 1)
        edges += [(i, i + 1) for i in range(start, end)] + [(end, start)]
        if end < n:
            edges.append((rng.randint(start, end), end + 1))
    return edges


def cases():
    rng = random.Random(505)
    dag = [(1, 2), (1, 3), (2, 4), (3, 4), (4, 5)]
    two_cycles = [(1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 4), (1, 6)]
    n_large = 8000
    chain = [(i, i + 1) for i in range(1, n_large)]
    return [
        _case("sample", [1, 2, 3], [(1, 2), (2, 1), (2, 3)]),
        _case("single", [42], []),
        _case("self_loop", [5, 7], [(1, 1), (1, 2), (1, 2)]),
        _case("dag", [3, 1, 10, 2, 4], dag),
        _case("two_cycles", [1, 1, 1, 5, 5, 2], two_cycles),
        _case("choice", [1, 9, 1, 1, 1, 1], [(1, 2), (1, 3), (3, 4), (4, 5), (5, 6), (6, 3)]),
        _case("small_random", [rng.randint(0, 9) for _ in range(10)], [(rng.randint(1, 10), rng.randint(1, 10)) for _ in range(14)], hidden=True),
        _case("medium_random", [rng.randint(0, 10**6) for _ in range(400)], [(rng.randint(1, 400), rng.randint(1, 400)) for _ in range(600)], rng, hidden=True),
        _case("large_chain", [rng.randint(0, 10**6) for _ in range(n_large)], chain, rng, large=True, hidden=True),
        _case("large_cycles", [rng.randint(0, 10**6) for _ in range(n_large)], _cycle_chain(rng, n_large, 7), rng, large=True),
        _case("large_random", [rng.randint(0, 10**6) for _ in range(n_large)], [(rng.randint(1, n_large), rng.randint(1, n_large)) for _ in range(16000)], rng, large=True, hidden=True),
    ]
