import random


def _case(id, a, **extra):
    return {"id": id, "input": f"{len(a)}\n{' '.join(map(str, a))}\n", **extra}


def cases():
    rng = random.Random(101)
    pairs = []
    for k in range(10000):  # 2k+2, 2k+1: 2^10000 longest subsequences
        pairs += [2 * k + 2, 2 * k + 1]
    return [
        _case("sample", [1, 3, 5, 4, 7]),
        _case("single", [-1000000000]),
        _case("all_equal", [5] * 6),
        _case("decreasing", [7, 6, 5, 4, 3, 2, 1]),
        _case("small_dups", [rng.randint(0, 4) for _ in range(12)]),
        _case("medium", [rng.randint(-50, 50) for _ in range(300)], hidden=True),
        _case("large_pairs", pairs, large=True, hidden=True),
        _case("large_random", [rng.randint(-10**6, 10**6) for _ in range(20000)], large=True, hidden=True),
        _case("large_few_values", [rng.randint(0, 60) for _ in range(20000)], large=True),
    ]
