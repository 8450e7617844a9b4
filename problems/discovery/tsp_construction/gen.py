"""Writes tests.jsonl: random uniform Euclidean instances and their best-known tour lengths.

    python problems/discovery/tsp_construction/gen.py      (needs numpy; seeded)

best_known is the shortest tour found by 2-opt + Or-opt local search from 8 nearest-neighbour
starts: within a few per cent of optimal at these sizes, so scores against it slightly
flatter every construction heuristic relative to the true optimum.
"""

import json
import math
import random
from pathlib import Path

import numpy as np

SIZES = (50, 100, 200)


def length(pts: np.ndarray, tour: list[int]) -> float:
    return float(sum(math.dist(pts[tour[i - 1]], pts[tour[i]]) for i in range(len(tour))))


def nearest_neighbour(d: np.ndarray, start: int) -> list[int]:
    n = len(d)
    tour, left = [start], set(range(n)) - {start}
    while left:
        nxt = min(left, key=lambda j: d[tour[-1], j])
        tour.append(nxt)
        left.remove(nxt)
    return tour


def local_search(d: np.ndarray, tour: list[int]) -> list[int]:
    """2-opt and Or-opt (segments of 1-3 moved, either orientation) until no move improves."""
    n = len(tour)
    improved = True
    while improved:
        improved = False
        t = np.array(tour)
        for i in range(n - 2):  # 2-opt: reverse tour[i+1..j]
            a, b = t[i], t[i + 1]
            c, e = t[i + 2:], np.roll(t, -1)[i + 2:]
            delta = d[a, c] + d[b, e] - d[a, b] - d[c, e]
            if i == 0:
                delta = delta[:-1]
            j = int(np.argmin(delta)) if len(delta) else -1
            if j >= 0 and delta[j] < -1e-12:
                j += i + 2
                t[i + 1:j + 1] = t[i + 1:j + 1][::-1].copy()
                improved = True
        tour = t.tolist()
        for seg in (1, 2, 3):  # Or-opt
            i = 0
            while i < n:
                s = [tour[(i + k) % n] for k in range(seg)]
                rest = [x for x in tour if x not in s]
                p, q = tour[(i - 1) % n], tour[(i + seg) % n]
                gain = d[p, s[0]] + d[s[-1], q] - d[p, q]
                best = None
                for k in range(len(rest)):
                    u, v = rest[k], rest[(k + 1) % len(rest)]
                    for piece in (s, s[::-1]):
                        cost = d[u, piece[0]] + d[piece[-1], v] - d[u, v]
                        if cost < gain - 1e-12 and (best is None or cost < best[0]):
                            best = (cost, k, piece)
                if best is not None:
                    _, k, piece = best
                    tour = rest[: k + 1] + list(piece) + rest[k + 1:]
                    improved = True
                i += 1
    return tour


def cases() -> list[dict]:
    rng = random.Random(1515)
    rows = []
    for n in SIZES:
        for k in "ab":
            pts = [[round(rng.random(), 4), round(rng.random(), 4)] for _ in range(n)]
            arr = np.array(pts)
            d = np.sqrt(((arr[:, None, :] - arr[None, :, :]) ** 2).sum(-1))
            best = min(length(arr, local_search(d, nearest_neighbour(d, s))) for s in range(0, n, n // 8))
            rows.append({"id": f"uniform_{n}_{k}", "instance": {"points": pts, "best_known": round(best, 6)},
                         "hidden": k == "b" and n == 200})
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("tests.jsonl")
    out.write_text("".join(json.dumps(row, separators=(",", ":")) + "\n" for row in cases()))
    print(f"wrote {out}")
