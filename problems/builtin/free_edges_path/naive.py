import sys

data = sys.stdin.read().split()
n, m, k = int(data[0]), int(data[1]), int(data[2])
edges = [tuple(int(x) for x in data[3 + 3 * i : 6 + 3 * i]) for i in range(m)]
INF = float("inf")
dist = [[INF] * (k + 1) for _ in range(n + 1)]
dist[1][0] = 0
for _ in range(n * (k + 1)):  # Bellman-Ford over (node, coupons used)
    changed = False
    for u, v, w in edges:
        for a, b in ((u, v), (v, u)):
            for j in range(k + 1):
                if dist[a][j] + w < dist[b][j]:
                    dist[b][j] = dist[a][j] + w
                    changed = True
                if j < k and dist[a][j] < dist[b][j + 1]:
                    dist[b][j + 1] = dist[a][j]
                    changed = True
    if not changed:
        break
best = min(dist[n])
print(-1 if best == INF else best)
