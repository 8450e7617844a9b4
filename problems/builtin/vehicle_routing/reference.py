import math


def _route_cost(route, depot, pts):
    path = [depot] + [pts[c] for c in route] + [depot]
    return sum(math.dist(path[i], path[i + 1]) for i in range(len(path) - 1))


def _two_opt(route, depot, pts):
    best = route[:]
    improved = True
    while improved:
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                cand = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                if _route_cost(cand, depot, pts) < _route_cost(best, depot, pts) - 1e-9:
                    best, improved = cand, True
    return best


def routes(instance: dict) -> list[list[int]]:
    """Clarke-Wright savings, 2-opt inside routes, then relocations between routes."""
    depot, pts, demand, cap = instance["depot"], instance["customers"], instance["demands"], instance["capacity"]
    n = len(pts)
    d0 = [math.dist(depot, p) for p in pts]
    savings = sorted(
        ((d0[i] + d0[j] - math.dist(pts[i], pts[j]), i, j) for i in range(n) for j in range(i + 1, n)), reverse=True
    )
    route_of = {i: [i] for i in range(n)}
    for s, i, j in savings:
        ri, rj = route_of[i], route_of[j]
        if ri is rj or s <= 0:
            continue
        if sum(demand[c] for c in ri) + sum(demand[c] for c in rj) > cap:
            continue
        if ri[-1] == i and rj[0] == j:
            merged = ri + rj
        elif ri[0] == i and rj[-1] == j:
            merged = rj + ri
        elif ri[-1] == i and rj[-1] == j:
            merged = ri + rj[::-1]
        elif ri[0] == i and rj[0] == j:
            merged = ri[::-1] + rj
        else:
            continue
        for c in merged:
            route_of[c] = merged
    result, seen = [], set()
    for c in range(n):
        r = route_of[c]
        if id(r) not in seen:
            seen.add(id(r))
            result.append(_two_opt(r, depot, pts))
    improved = True
    while improved:  # move one customer to its best position in another route
        improved = False
        for a in range(len(result)):
            for pos, c in enumerate(result[a]):
                rest = result[a][:pos] + result[a][pos + 1 :]
                gain = _route_cost(result[a], depot, pts) - _route_cost(rest, depot, pts)
                for b in range(len(result)):
                    if b == a or sum(demand[x] for x in result[b]) + demand[c] > cap:
                        continue
                    base = _route_cost(result[b], depot, pts)
                    for k in range(len(result[b]) + 1):
                        cand = result[b][:k] + [c] + result[b][k:]
                        if _route_cost(cand, depot, pts) - base < gain - 1e-9:
                            result[a], result[b] = rest, cand
                            improved = True
                            break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break
        result = [r for r in result if r]
    return [_two_opt(r, depot, pts) for r in result]
