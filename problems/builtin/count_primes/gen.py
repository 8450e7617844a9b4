def cases():
    T = 10**12
    rows = [
        ("one", 1, 1), ("two", 2, 2), ("to_100", 1, 100), ("gap", 14, 16), ("square", 49, 49),
        ("top_window", T - 100, T),
        ("to_2m", 1, 2 * 10**6),
        ("big_window", T - 2 * 10**6, T),
        ("billion", 10**9, 10**9 + 2 * 10**6),
        ("mid", 123456789012, 123456789012 + 1500000),
    ]
    hidden = {"top_window", "billion", "mid"}
    large = {"big_window", "billion", "mid"}
    return [{"id": i, "args": [a, b], "hidden": i in hidden, "large": i in large} for i, a, b in rows]
