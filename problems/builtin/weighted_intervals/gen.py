import random


def _case(id, items, **extra):
    body = "".join(f"{s} {e} {w}\n" for s, e, w in items)
    return {"id": id, "input": f"{len(items)}\n{body}", **extra}


def _random(rng, n, span, maxlen, maxw):
    out = []
    for _ in range(n):
        s = rng.randint(0, span - 1)
        e = min(span, s + rng.randint(1, maxlen))
        out.append((s, e, rng.randint(1, maxw)))
    return out


def cases():
    rng = random.Random(202)
    chain = [(i, i + 1, 1) for i in range(10)]
    nested = [(0, 100, 50)] + [(10 * i, 10 * i + 10, 6) for i in range(10)]
    greedy_trap = [(0, 10, 1), (0, 11, 100), (10, 20, 1), (11, 30, 100)]
    return [
        _case("sample", [(0, 3, 5), (2, 5, 6), (3, 6, 4)]),
        _case("single", [(5, 1000000, 1000000000)]),
        _case("touching_chain", chain),
        _case("nested", nested),
        _case("greedy_trap", greedy_trap),
        _case("identical", [(3, 7, 4)] * 5),
        _case("small_random", _random(rng, 30, 100, 30, 50), hidden=True),
        _case("medium_random", _random(rng, 800, 10000, 300, 10**9), hidden=True),
        _case("large_random", _random(rng, 12000, 10**6, 2000, 10**9), large=True, hidden=True),
        _case("large_short", _random(rng, 12000, 10**6, 60, 1000), large=True),
    ]
