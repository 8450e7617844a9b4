import random


def _spiral(n, wall, floor):
    """A spiral corridor: water drains through one long winding path."""
    g = [[wall] * n for _ in range(n)]
    r, c, dr, dc = n // 2, n // 2, 0, 1
    steps, leg = 1, 0
    while 0 < r < n - 1 and 0 < c < n - 1:
        for _ in range(steps):
            if not (0 < r < n - 1 and 0 < c < n - 1):
                break
            g[r][c] = floor + (r + c) % 7
            r, c = r + dr, c + dc
        dr, dc = dc, -dr
        leg += 1
        if leg % 2 == 0:
            steps += 2
    g[r][c] = 0
    return g


def _pools(rng, n, m):
    g = [[rng.randint(0, 30) for _ in range(m)] for _ in range(n)]
    for _ in range(25):  # rectangular rims of random heights
        r0, c0 = rng.randint(0, n - 3), rng.randint(0, m - 3)
        r1, c1 = rng.randint(r0 + 2, min(n - 1, r0 + 40)), rng.randint(c0 + 2, min(m - 1, c0 + 40))
        h = rng.randint(50, 10**4)
        for r in range(r0, r1 + 1):
            g[r][c0] = g[r][c1] = max(g[r][c0], h)
        for c in range(c0, c1 + 1):
            g[r0][c] = g[r1][c] = max(g[r0][c], h)
    return g


def cases():
    rng = random.Random(1010)
    bowl = [[5, 5, 5], [5, 1, 5], [5, 5, 5]]
    leak = [[5, 5, 5, 5], [5, 1, 1, 5], [5, 1, 5, 5], [5, 0, 5, 5]]
    nested = [[9] * 7] + [[9, 4, 4, 4, 4, 4, 9]] + [[9, 4, 1, 1, 1, 4, 9]] * 3 + [[9, 4, 4, 4, 4, 4, 9], [9] * 7]
    rows = [
        ("single", [[1]], False), ("sample", [[1, 4, 3, 1, 3, 2], [3, 2, 1, 3, 2, 4], [2, 3, 3, 2, 3, 1]], False),
        ("bowl", bowl, False), ("leak", leak, False), ("nested", nested, False),
        ("snake_small", _spiral(9, 20, 2), False),
        ("small_random", [[rng.randint(0, 9) for _ in range(8)] for _ in range(7)], False),
        ("medium_pools", _pools(rng, 30, 30), False),
        ("large_random", [[rng.randint(0, 10**4) for _ in range(120)] for _ in range(120)], False),
        ("large_spiral", _spiral(120, 10**4, 10), True),
        ("large_pools", _pools(rng, 120, 120), False),
    ]
    hidden = {"medium_pools", "large_pools", "nested"}
    return [{"id": i, "args": [g], "hidden": i in hidden, "large": lg} for i, g, lg in rows]
