"""Online bin packing (FunSearch): items arrive one by one and go, irrevocably, into the open
bin with the highest priority that can hold them."""
import numpy as np


# EVOLVE-BLOCK-START
def priority(item: float, bins: np.ndarray) -> np.ndarray:
    """Returns priority with which we want to add item to each bin.

    item: size of the item to place; bins: remaining capacities of the bins that can hold it.
    Best fit: prefer the bin the item fills most.
    """
    return -(bins - item)
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
