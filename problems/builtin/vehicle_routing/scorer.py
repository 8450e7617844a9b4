import math


def score(instance, output):
    depot, pts, demand, cap = instance["depot"], instance["customers"], instance["demands"], instance["capacity"]
    if type(output) not in (list, tuple):
        return 0.0
    seen = []
    cost = 0.0
    for route in output:
        if type(route) not in (list, tuple):
            return 0.0
        if any(type(c) is not int or not 0 <= c < len(pts) for c in route):
            return 0.0
        if sum(demand[c] for c in route) > cap:
            return 0.0
        path = [depot] + [pts[c] for c in route] + [depot]
        cost += sum(math.dist(path[i], path[i + 1]) for i in range(len(path) - 1))
        seen += route
    if sorted(seen) != list(range(len(pts))):
        return 0.0
    return min(1.0, instance["best_known"] / cost) if cost > 0 else 0.0
