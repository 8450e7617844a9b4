import random


def cases():
    rng = random.Random(909)
    big = [rng.randint(0, 10**9) for _ in range(20000)]
    dup = [rng.randint(0, 3000) for _ in range(20000)]
    clustered = [rng.choice([0, 10**9 // 2, 10**9]) + rng.randint(0, 10**5) for _ in range(20000)]
    small = [rng.randint(0, 50) for _ in range(40)]
    med = [rng.randint(0, 10**6) for _ in range(1500)]
    total = lambda a: len(a) * (len(a) - 1) // 2
    rows = [
        ("zero", [1, 3, 1], 1, False), ("all_same", [7, 7, 7], 2, False), ("sample", [1, 6, 1], 3, False),
        ("pair", [10**9, 0], 1, False),
        ("small_random", small, 300, False), ("medium_random", med, total(med) // 3, False),
        ("large_median", big, total(big) // 2, True), ("large_max", big, total(big), True),
        ("large_dups", dup, total(dup) // 5, True), ("large_clustered", clustered, total(clustered) * 2 // 3 + 12345, True),
        ("large_small_k", big, 1000, False),
    ]
    hidden = {"large_max", "medium_random", "large_clustered"}
    return [{"id": i, "args": [a, k], "hidden": i in hidden, "large": lg} for i, a, k, lg in rows]
