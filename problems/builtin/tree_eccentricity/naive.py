import sys

data = sys.stdin.read().split()
n = int(data[0])
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = (int(x) for x in data[1 + 3 * i : 4 + 3 * i])
    adj[u].append((v, w))
    adj[v].append((u, w))
ecc = []
for s in range(1, n + 1):
    dist = {s: 0}
    stack = [s]
    while stack:
        u = stack.pop()
        for v, w in adj[u]:
            if v not in dist:
                dist[v] = dist[u] + w
                stack.append(v)
    ecc.append(max(dist.values()))
print(min(ecc), max(ecc), sum(ecc))
