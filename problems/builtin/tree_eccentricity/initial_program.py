import sys
from collections import deque


# EVOLVE-BLOCK-START
def farthest(adj, start, n, weighted):
    dist = [-1] * (n + 1)
    dist[start] = 0
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v, w in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + (w if weighted else 1)
                queue.append(v)
    return dist


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    adj = [[] for _ in range(n + 1)]
    for i in range(n - 1):
        u, v, w = (int(x) for x in data[1 + 3 * i : 4 + 3 * i])
        adj[u].append((v, w))
        adj[v].append((u, w))
    # ends of a longest path (counted in edges), then weighted distances from both ends
    d0 = farthest(adj, 1, n, False)
    a = max(range(1, n + 1), key=lambda x: d0[x])
    da = farthest(adj, a, n, False)
    b = max(range(1, n + 1), key=lambda x: da[x])
    wa, wb = farthest(adj, a, n, True), farthest(adj, b, n, True)
    ecc = [max(wa[x], wb[x]) for x in range(1, n + 1)]
    print(min(ecc), max(ecc), sum(ecc))


main()
# EVOLVE-BLOCK-END
