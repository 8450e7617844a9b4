import math


def tour(instance: dict) -> list[int]:
    """Nearest neighbour, then 2-opt and Or-opt moves until no move shortens the tour."""
    pts = instance["points"]
    n = len(pts)
    d = [[math.dist(p, q) for q in pts] for p in pts]
    near = [sorted(range(n), key=lambda j: d[i][j])[1:11] for i in range(n)]
    order, left = [0], set(range(1, n))
    while left:
        last = order[-1]
        nxt = min(left, key=lambda j: d[last][j])
        order.append(nxt)
        left.remove(nxt)
    improved = True
    while improved:
        improved = False
        pos = [0] * n
        for i, c in enumerate(order):
            pos[c] = i
        for i in range(n):  # 2-opt over neighbour lists
            a, b = order[i], order[(i + 1) % n]
            for c in near[a]:
                j = pos[c]
                e = order[(j + 1) % n]
                if c == b or e == a:
                    continue
                delta = d[a][c] + d[b][e] - d[a][b] - d[c][e]
                if delta < -1e-9:
                    lo, hi = sorted((i, j))
                    order[lo + 1 : hi + 1] = order[lo + 1 : hi + 1][::-1]
                    improved = True
                    break
            if improved:
                break
        if improved:
            continue
        for seg in (1, 2, 3):  # Or-opt: move a segment elsewhere, possibly reversed
            for i in range(n):
                s = [order[(i + k) % n] for k in range(seg)]
                prev, after = order[(i - 1) % n], order[(i + seg) % n]
                gain = d[prev][s[0]] + d[s[-1]][after] - d[prev][after]
                rest = [c for c in order if c not in s]
                for j in range(len(rest)):
                    p, q = rest[j], rest[(j + 1) % len(rest)]
                    for cand in (s, s[::-1]):
                        add = d[p][cand[0]] + d[cand[-1]][q] - d[p][q]
                        if add < gain - 1e-9:
                            order = rest[: j + 1] + cand + rest[j + 1 :]
                            improved = True
                            break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break
    return order
