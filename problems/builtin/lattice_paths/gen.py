import random


def _case(id, h, w, pts, **extra):
    body = "".join(f"{x} {y}\n" for x, y in pts)
    return {"id": id, "input": f"{h} {w} {len(pts)}\n{body}", **extra}


def _points(rng, h, w, k, near_diagonal=False):
    pts = set()
    while len(pts) < k:
        x = rng.randint(0, h)
        if near_diagonal:
            y = min(w, max(0, x * w // max(h, 1) + rng.randint(-30, 30)))
        else:
            y = rng.randint(0, w)
        if (x, y) not in ((0, 0), (h, w)):
            pts.add((x, y))
    return sorted(pts, key=lambda p: rng.random())


def cases():
    rng = random.Random(606)
    return [
        _case("sample", 2, 2, [(1, 1)]),
        _case("no_blocks", 100000, 100000, []),
        _case("start_blocked", 5, 5, [(0, 0), (2, 3)]),
        _case("end_blocked", 5, 7, [(5, 7)]),
        _case("line", 0, 10, [(0, 4)]),
        _case("wall", 6, 6, [(3, y) for y in range(6)]),
        _case("two_on_path", 10, 10, [(2, 2), (5, 5), (7, 3)]),
        _case("small_random", 30, 40, _points(rng, 30, 40, 60), hidden=True),
        _case("medium_random", 400, 300, _points(rng, 400, 300, 200), hidden=True),
        _case("large_diagonal", 100000, 100000, _points(rng, 100000, 100000, 1000, near_diagonal=True), large=True, hidden=True),
        _case("large_random", 99999, 50000, _points(rng, 99999, 50000, 1000), large=True),
    ]
