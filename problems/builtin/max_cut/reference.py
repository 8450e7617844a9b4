import random


def cut(instance: dict) -> list[int]:
    """Restarts of one-flip local search with random kicks; keep the best cut."""
    n = instance["n"]
    adj = [[] for _ in range(n)]
    for u, v, w in instance["edges"]:
        adj[u].append((v, w))
        adj[v].append((u, w))
    rng = random.Random(12345)

    def value(side):
        return sum(w for u in range(n) for v, w in adj[u] if u < v and side[u] != side[v])

    def descend(side):
        gain = [sum(w if side[v] == side[u] else -w for v, w in adj[u]) for u in range(n)]
        while True:
            u = max(range(n), key=gain.__getitem__)
            if gain[u] <= 0:
                return side
            side[u] ^= 1
            gain[u] = -gain[u]
            for v, w in adj[u]:
                gain[v] += 2 * w if side[v] == side[u] else -2 * w

    best = descend([rng.randint(0, 1) for _ in range(n)])
    best_value = value(best)
    for _ in range(60):
        side = best[:]
        for u in rng.sample(range(n), max(2, n // 10)):
            side[u] ^= 1
        side = descend(side)
        val = value(side)
        if val > best_value:
            best, best_value = side, val
    return best
