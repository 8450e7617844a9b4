import random


def _dsatur(n, adj):
    colors = [-1] * n
    sat = [set() for _ in range(n)]
    for _ in range(n):
        v = max((u for u in range(n) if colors[u] < 0), key=lambda u: (len(sat[u]), len(adj[u])))
        c = 0
        while c in sat[v]:
            c += 1
        colors[v] = c
        for u in adj[v]:
            sat[u].add(c)
    return colors


def _tabucol(n, adj, k, start, rng, iterations):
    """Try to make a k-colouring proper by tabu search on conflicts (colours >= k recoloured)."""
    colors = [c if c < k else rng.randrange(k) for c in start]
    count = [[0] * k for _ in range(n)]  # count[v][c]: neighbours of v with colour c
    for v in range(n):
        for u in adj[v]:
            count[v][colors[u]] += 1
    conflicts = sum(count[v][colors[v]] for v in range(n)) // 2
    tabu = {}
    for it in range(iterations):
        if conflicts == 0:
            return colors
        best = None
        for v in range(n):
            cv = colors[v]
            if count[v][cv] == 0:
                continue
            for c in range(k):
                if c == cv:
                    continue
                delta = count[v][c] - count[v][cv]
                if tabu.get((v, c), -1) >= it and conflicts + delta > 0:
                    continue
                if best is None or delta < best[0]:
                    best = (delta, v, c)
        if best is None:
            continue
        delta, v, c = best
        old = colors[v]
        colors[v] = c
        for u in adj[v]:
            count[u][old] -= 1
            count[u][c] += 1
        conflicts += delta
        tabu[(v, old)] = it + 7 + rng.randrange(5)
    return colors if conflicts == 0 else None


def color(instance: dict) -> list[int]:
    """DSatur, then tabu search for a colouring with one colour fewer, while it succeeds."""
    n = instance["n"]
    adj = [set() for _ in range(n)]
    for u, v in instance["edges"]:
        adj[u].add(v)
        adj[v].add(u)
    rng = random.Random(4242)
    best = _dsatur(n, adj)
    k = max(best) + 1
    while k > 1:
        found = _tabucol(n, adj, k - 1, best, rng, 3000)
        if found is None:
            break
        best, k = found, k - 1
    return best
