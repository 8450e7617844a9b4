import math


def score(instance, output):
    """best_known / total route length, capped at 1; invalid routes raise, saying why."""
    depot, pts, demand, cap = instance["depot"], instance["customers"], instance["demands"], instance["capacity"]
    if type(output) not in (list, tuple):
        raise ValueError(f"return a list of routes (lists of customer indices); got {output!r:.60}")
    seen = []
    cost = 0.0
    for k, route in enumerate(output):
        if type(route) not in (list, tuple):
            raise ValueError(f"route {k} is not a list of customer indices: {route!r:.40}")
        if any(type(c) is not int or not 0 <= c < len(pts) for c in route):
            raise ValueError(f"route {k}: customers are ints in 0..{len(pts) - 1}; got {route!r:.40}")
        load = sum(demand[c] for c in route)
        if load > cap:
            raise ValueError(f"route {k} carries {load}, over the capacity {cap}")
        path = [depot] + [pts[c] for c in route] + [depot]
        cost += sum(math.dist(path[i], path[i + 1]) for i in range(len(path) - 1))
        seen += route
    if sorted(seen) != list(range(len(pts))):
        raise ValueError(f"every customer 0..{len(pts) - 1} must be visited exactly once")
    return min(1.0, instance["best_known"] / cost) if cost > 0 else 0.0
