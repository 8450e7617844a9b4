def cases():
    rows = [
        ("one", 1, 1, 1), ("sample", 100, 10, 1), ("all", 1000, 1, 1), ("small", 1000, 3, 7),
        ("million", 10**6, 7, 11),
        ("nines", 10**18, 9, 9),
        ("huge_trivial", 10**18, 1, 1),
        ("huge_a", 123456789012345678, 40, 37),
        ("huge_b", 10**17 + 12345, 13, 1),
        ("huge_c", 999999999999999999, 31, 40),
        ("huge_d", 55555555555555, 2, 25),
    ]
    hidden = {"huge_a", "huge_c", "small"}
    return [{"id": i, "args": [n, k, m], "hidden": i in hidden, "large": n > 10**9} for i, n, k, m in rows]
