import sys


def distances(adj, start, n):
    dist = [-1] * (n + 1)
    dist[start] = 0
    stack = [start]
    while stack:
        u = stack.pop()
        du = dist[u]
        for v, w in adj[u]:
            if dist[v] < 0:
                dist[v] = du + w
                stack.append(v)
    return dist


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    adj = [[] for _ in range(n + 1)]
    for i in range(n - 1):
        u, v, w = int(data[1 + 3 * i]), int(data[2 + 3 * i]), int(data[3 + 3 * i])
        adj[u].append((v, w))
        adj[v].append((u, w))
    d1 = distances(adj, 1, n)
    a = max(range(1, n + 1), key=d1.__getitem__)
    da = distances(adj, a, n)
    b = max(range(1, n + 1), key=da.__getitem__)
    db = distances(adj, b, n)
    ecc = [max(da[x], db[x]) for x in range(1, n + 1)]
    print(min(ecc), max(ecc), sum(ecc))


main()
