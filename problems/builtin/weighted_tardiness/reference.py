import math


def _cost(order, p, w, d):
    t = total = 0
    for j in order:
        t += p[j]
        if t > d[j]:
            total += w[j] * (t - d[j])
    return total


def _atc(p, w, d, k):
    """Apparent tardiness cost dispatching."""
    n = len(p)
    pbar = sum(p) / n
    left, t, order = set(range(n)), 0, []
    while left:
        j = max(left, key=lambda j: (w[j] / p[j] * math.exp(-max(0, d[j] - p[j] - t) / (k * pbar)), -j))
        order.append(j)
        left.remove(j)
        t += p[j]
    return order


def sequence(instance: dict) -> list[int]:
    """Best ATC start over several k, then swap and insertion moves to a local optimum."""
    p, w, d = instance["processing"], instance["weights"], instance["due"]
    n = len(p)
    order = min((_atc(p, w, d, k) for k in (0.5, 1, 2, 3, 5)), key=lambda o: _cost(o, p, w, d))
    best = _cost(order, p, w, d)
    improved = True
    while improved:
        improved = False
        for i in range(n):
            for j in range(i + 1, n):
                cand = order[:]
                cand[i], cand[j] = cand[j], cand[i]
                c = _cost(cand, p, w, d)
                if c < best:
                    order, best, improved = cand, c, True
        for i in range(n):
            job = order[i]
            rest = order[:i] + order[i + 1 :]
            for k in range(n):
                if k == i:
                    continue
                cand = rest[:k] + [job] + rest[k:]
                c = _cost(cand, p, w, d)
                if c < best:
                    order, best, improved = cand, c, True
                    break
    return order
