import sys

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
val = [0] + [int(x) for x in data[2 : 2 + n]]
adj = [set() for _ in range(n + 1)]
for i in range(m):
    adj[int(data[2 + n + 2 * i])].add(int(data[3 + n + 2 * i]))
reach = []
for s in range(n + 1):
    seen, stack = {s}, [s]
    while stack:
        for v in adj[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    reach.append(seen)
# a walk's visited set is a chain of components; the components of u: mutual reachability
best = {}
order = sorted(range(1, n + 1), key=lambda u: len(reach[u]))
for u in order:  # fewer reachable nodes first: successors of u's component come earlier
    comp = [w for w in reach[u] if u in reach[w]]
    here = sum(val[w] for w in comp)
    nxt = [best[v] for w in comp for v in adj[w] if v not in comp and v in best]
    best[u] = here + max(nxt, default=0)
print(max(best.values()))
