def cases():
    rows = [
        ("one", 1), ("two", 2), ("ten", 10), ("hundred", 100), ("prime", 997), ("million", 10**6),
        ("ten_million", 10**7), ("huge", 10**12), ("huge_prime", 999999999989),
        ("half", 5 * 10**11 + 3), ("square", 999999 ** 2),
    ]
    hidden = {"huge_prime", "prime", "square"}
    return [{"id": i, "args": [n], "hidden": i in hidden, "large": n > 10**8} for i, n in rows]
