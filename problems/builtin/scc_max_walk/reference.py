import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    val = [0] + [int(x) for x in data[2 : 2 + n]]
    adj = [[] for _ in range(n + 1)]
    base = 2 + n
    for i in range(m):
        adj[int(data[base + 2 * i])].append(int(data[base + 2 * i + 1]))
    # iterative Tarjan
    index = [0] * (n + 1)  # 0 = unvisited, else dfs number
    low = [0] * (n + 1)
    on_stack = [False] * (n + 1)
    comp = [-1] * (n + 1)
    stack, counter, ncomp = [], 0, 0
    for root in range(1, n + 1):
        if index[root]:
            continue
        work = [(root, 0)]
        while work:
            u, i = work.pop()
            if i == 0:
                counter += 1
                index[u] = low[u] = counter
                stack.append(u)
                on_stack[u] = True
            recurse = False
            while i < len(adj[u]):
                v = adj[u][i]
                i += 1
                if not index[v]:
                    work.append((u, i))
                    work.append((v, 0))
                    recurse = True
                    break
                if on_stack[v] and index[v] < low[u]:
                    low[u] = index[v]
            if recurse:
                continue
            if low[u] == index[u]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = ncomp
                    if w == u:
                        break
                ncomp += 1
            if work:
                p = work[-1][0]
                if low[u] < low[p]:
                    low[p] = low[u]
    # Tarjan numbers components in reverse topological order: sinks first
    weight = [0] * ncomp
    for u in range(1, n + 1):
        weight[comp[u]] += val[u]
    best = weight[:]
    succ = [[] for _ in range(ncomp)]
    for u in range(1, n + 1):
        cu = comp[u]
        for v in adj[u]:
            if comp[v] != cu:
                succ[cu].append(comp[v])
    for c in range(ncomp):  # successors have smaller numbers: already final
        extra = 0
        for d in succ[c]:
            if best[d] > extra:
                extra = best[d]
        best[c] = weight[c] + extra
    print(max(best))


main()
