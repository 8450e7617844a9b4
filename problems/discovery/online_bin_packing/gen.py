"""Writes tests.jsonl: OR-Library-like and Weibull instances (seeded; run by hand).

    python problems/discovery/online_bin_packing/gen.py

OR-Library's binpack1-4 (Falkenauer's u120..u1000) draw integer sizes uniformly from [20, 100]
with capacity 150; FunSearch's Weibull 5k set draws sizes from Weibull(shape 3, scale 45),
clipped to [1, 100], with capacity 100.  The real OR-Library files cannot be fetched here, so
these are generated look-alikes with the same distributions and sizes.
"""

import json
import random
from pathlib import Path

OR_SIZES = (120, 250, 500, 1000)
WEIBULL_ITEMS = 5000


def cases() -> list[dict]:
    rng = random.Random(15)
    rows = []
    for n in OR_SIZES:
        for k in "ab":
            items = [rng.randint(20, 100) for _ in range(n)]
            rows.append({"id": f"or_u{n}_{k}", "instance": {"family": "or", "capacity": 150, "items": items},
                         "hidden": k == "b" and n == 1000})
    for k in range(3):
        items = [min(100, max(1, round(rng.weibullvariate(45, 3)))) for _ in range(WEIBULL_ITEMS)]
        rows.append({"id": f"weibull_5k_{k}", "instance": {"family": "weibull", "capacity": 100, "items": items},
                     "hidden": k == 2})
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("tests.jsonl")
    out.write_text("".join(json.dumps(row, separators=(",", ":")) + "\n" for row in cases()))
    print(f"wrote {out}")
