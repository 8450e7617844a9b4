import heapq
import sys


# EVOLVE-BLOCK-START
def solve(n, edges, k):
    """Plain Dijkstra: ignores the coupons."""
    adj = [[] for _ in range(n + 1)]
    for u, v, w in edges:
        adj[u].append((v, w))
        adj[v].append((u, w))
    dist = [None] * (n + 1)
    heap = [(0, 1)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] is not None:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] is None:
                heapq.heappush(heap, (d + w, v))
    return -1 if dist[n] is None else dist[n]


def main():
    data = sys.stdin.read().split()
    n, m, k = int(data[0]), int(data[1]), int(data[2])
    vals = list(map(int, data[3 : 3 + 3 * m]))
    edges = [tuple(vals[3 * i : 3 * i + 3]) for i in range(m)]
    print(solve(n, edges, k))


main()
# EVOLVE-BLOCK-END
