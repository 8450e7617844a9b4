import random


def _fib(n):
    a, b = "b", "a"
    while len(b) < n:
        a, b = b, b + a
    return b[:n]


def cases():
    rng = random.Random(1111)
    word = lambda n, alpha: "".join(rng.choice(alpha) for _ in range(n))
    periodic = list("abcab" * 10000)
    for _ in range(30):
        periodic[rng.randrange(len(periodic))] = "z"
    rows = [
        ("one", "a", False), ("same", "aaaa", False), ("abab", "abab", False), ("abc", "abc", False),
        ("small_random", word(60, "ab"), False), ("medium_random", word(1200, "abc"), False),
        ("large_binary", word(50000, "ab"), True), ("large_periodic", "".join(periodic), True),
        ("large_fibonacci", _fib(46368), True), ("large_letters", word(50000, "abcdefghijklmnopqrstuvwxyz"), True),
        ("large_same", "q" * 50000, True),
    ]
    hidden = {"medium_random", "large_periodic", "large_same"}
    return [{"id": i, "args": [s], "hidden": i in hidden, "large": lg} for i, s, lg in rows]
