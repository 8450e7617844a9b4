import random


def _skyline(width, rects, order):
    """Bottom-left skyline: each rectangle goes where its top ends lowest (then leftmost)."""
    sky = [(0, width, 0)]  # segments (x, length, height), left to right
    pos = [None] * len(rects)
    for i in order:
        w, h = rects[i]
        best = None
        for s in range(len(sky)):
            x = sky[s][0]
            if x + w > width:
                break
            top, covered, t = 0, 0, s
            while covered < w:
                top = max(top, sky[t][2])
                covered += sky[t][1] - (x - sky[t][0] if t == s else 0)
                t += 1
            if best is None or (top + h, x) < (best[0] + h, best[1]):
                best = (top, x)
        y, x = best
        pos[i] = [x, y]
        new = []
        for sx, sl, sh in sky:  # cut [x, x + w) out of the skyline, insert the new segment
            if sx + sl <= x or sx >= x + w:
                new.append((sx, sl, sh))
                continue
            if sx < x:
                new.append((sx, x - sx, sh))
            if sx + sl > x + w:
                new.append((x + w, sx + sl - x - w, sh))
        new.append((x, w, y + h))
        new.sort()
        merged = [new[0]]
        for seg in new[1:]:
            px, pl, ph = merged[-1]
            if ph == seg[2]:
                merged[-1] = (px, pl + seg[1], ph)
            else:
                merged.append(seg)
        sky = merged
    return pos, max(p[1] + rects[i][1] for i, p in enumerate(pos))


def place(instance: dict) -> list[list[int]]:
    """Skyline bottom-left over several sort orders, then pairwise swaps of the best order."""
    width, rects = instance["width"], instance["rects"]
    n = len(rects)
    keys = [
        lambda i: (-rects[i][1], -rects[i][0]),
        lambda i: (-rects[i][0], -rects[i][1]),
        lambda i: (-rects[i][0] * rects[i][1],),
        lambda i: (-max(rects[i]),),
        lambda i: (-(rects[i][0] + rects[i][1]),),
    ]
    best = None
    for key in keys:
        order = sorted(range(n), key=key)
        pos, height = _skyline(width, rects, order)
        if best is None or height < best[1]:
            best = (pos, height, order)
    rng = random.Random(99)
    for _ in range(300):  # swap two rectangles in the best order; keep it unless worse
        order = best[2][:]
        i, j = rng.randrange(n), rng.randrange(n)
        order[i], order[j] = order[j], order[i]
        pos, height = _skyline(width, rects, order)
        if height <= best[1]:
            best = (pos, height, order)
    return best[0]
