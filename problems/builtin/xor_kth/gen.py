import random


def _case(id, nums, queries, **extra):
    return {"id": id, "input": f"{len(nums)} {len(queries)}\n{' '.join(map(str, nums))}\n{' '.join(map(str, queries))}\n", **extra}


def cases():
    rng = random.Random(707)
    big = [rng.getrandbits(60) for _ in range(5000)]
    low = [rng.getrandbits(12) for _ in range(5000)]
    indep = [1 << i for i in range(12)]
    return [
        _case("sample", [1, 3], [1, 2, 3, 4]),
        _case("single", [5], [1, 2]),
        _case("single_zero", [0], [1, 2]),
        _case("equal_pair", [6, 6], [1, 2, 3]),
        _case("dependent", [1, 2, 3], [1, 2, 3, 4, 5]),
        _case("independent", indep, [1, 2, 100, 4095, 4096, 10**18]),
        _case("small_random", [rng.randint(0, 63) for _ in range(9)], list(range(1, 70)), hidden=True),
        _case("medium_random", [rng.getrandbits(40) for _ in range(14)], [rng.randint(1, 17000) for _ in range(200)], hidden=True),
        _case("large_60bit", big, [rng.randint(1, 1 << 61) for _ in range(5000)], large=True, hidden=True),
        _case("large_low_bits", low, [rng.randint(1, 5000) for _ in range(5000)], large=True),
    ]
