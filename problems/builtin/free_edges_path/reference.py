import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m, k = int(data[0]), int(data[1]), int(data[2])
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = int(data[3 + 3 * i]), int(data[4 + 3 * i]), int(data[5 + 3 * i])
        adj[u].append((v, w))
        adj[v].append((u, w))
    width = k + 1
    INF = float("inf")
    dist = [INF] * ((n + 1) * width)  # state u * width + used
    dist[1 * width] = 0
    heap = [(0, 1, 0)]
    while heap:
        d, u, used = heapq.heappop(heap)
        if d > dist[u * width + used]:
            continue
        if u == n:
            print(d)
            return
        for v, w in adj[u]:
            s = v * width + used
            if d + w < dist[s]:
                dist[s] = d + w
                heapq.heappush(heap, (d + w, v, used))
            if used < k and d < dist[s + 1]:
                dist[s + 1] = d
                heapq.heappush(heap, (d, v, used + 1))
    print(-1)


main()
