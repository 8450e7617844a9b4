def cases():
    rows = [
        ("w1_odd", 1, 1), ("w1_even", 1, 2), ("w2_3", 2, 3), ("w3_2", 3, 2), ("w3_3", 3, 3),
        ("w4_4", 4, 4), ("w2_90", 2, 90),
        ("w3_huge", 3, 10**18), ("w4_huge", 4, 10**18), ("w2_huge", 2, 10**18 + 7),
        ("w4_odd_huge", 4, 999999999999999999), ("w3_odd_huge", 3, 123456789012345677),
        ("w1_huge", 1, 10**18),
    ]
    hidden = {"w4_huge", "w3_3", "w2_huge"}
    return [{"id": i, "args": [w, n], "hidden": i in hidden, "large": n > 10**9} for i, w, n in rows]
