def cases():
    rows = [
        ("one", 1, 1), ("sample", 7, 3), ("k1", 5, 1), ("k2", 10, 2), ("k_equals_n", 2000, 2000),
        ("k_above_n", 1999, 2000), ("million", 10**6, 7),
        ("huge_k2", 10**18, 2), ("huge_k3", 10**18, 3), ("huge_k2000", 10**18, 2000),
        ("big_odd", 123456789012, 1999), ("huge_k1", 10**18, 1),
    ]
    hidden = {"huge_k3", "big_odd", "k_above_n"}
    return [{"id": i, "args": [n, k], "hidden": i in hidden, "large": n > 10**8 and k > 1} for i, n, k in rows]
