import sys
from collections import deque


# EVOLVE-BLOCK-START
def solve(n, values, edges):
    """Longest path by topological order; nodes on cycles only count themselves."""
    adj = [[] for _ in range(n + 1)]
    indeg = [0] * (n + 1)
    for u, v in edges:
        adj[u].append(v)
        indeg[v] += 1
    best = [0] + values[:]
    queue = deque(i for i in range(1, n + 1) if indeg[i] == 0)
    while queue:
        u = queue.popleft()
        for v in adj[u]:
            best[v] = max(best[v], best[u] + values[v - 1])
            indeg[v] -= 1
            if indeg[v] == 0:
                queue.append(v)
    return max(best[1:])


def main():
    data = sys.stdin.read().split()
    n, m = int(data[0]), int(data[1])
    values = [int(x) for x in data[2 : 2 + n]]
    rest = data[2 + n :]
    edges = [(int(rest[2 * i]), int(rest[2 * i + 1])) for i in range(m)]
    print(solve(n, values, edges))


main()
# EVOLVE-BLOCK-END
