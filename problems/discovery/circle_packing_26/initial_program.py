"""Circle packing (AlphaEvolve B.12, OpenEvolve's example): place n disjoint circles inside the
unit square so that the sum of their radii is as large as possible."""
import numpy as np


# EVOLVE-BLOCK-START
def construct_packing(n: int):
    """(centers, radii): an (n, 2) array of centres and n radii. A centre circle and two rings."""
    centers = np.zeros((n, 2))
    centers[0] = [0.5, 0.5]
    inner = min(8, n - 1)
    for i in range(inner):
        angle = 2 * np.pi * i / inner
        centers[1 + i] = [0.5 + 0.3 * np.cos(angle), 0.5 + 0.3 * np.sin(angle)]
    outer = n - 1 - inner
    for i in range(outer):
        angle = 2 * np.pi * i / max(outer, 1)
        centers[1 + inner + i] = [0.5 + 0.7 * np.cos(angle), 0.5 + 0.7 * np.sin(angle)]
    centers = np.clip(centers, 0.01, 0.99)
    return centers, compute_max_radii(centers)


def compute_max_radii(centers):
    """Largest radii that keep every circle inside the square and (by halving) apart."""
    n = len(centers)
    radii = np.minimum.reduce([centers[:, 0], centers[:, 1], 1 - centers[:, 0], 1 - centers[:, 1]])
    for i in range(n):
        for j in range(i + 1, n):
            dist = np.sqrt(((centers[i] - centers[j]) ** 2).sum())
            if radii[i] + radii[j] > dist:
                scale = dist / (radii[i] + radii[j])
                radii[i] *= scale
                radii[j] *= scale
    return radii * (1 - 1e-9)  # float rounding must never make two circles overlap
# EVOLVE-BLOCK-END


def pack_circles(instance: dict):
    """The fixed entry point: (centers, radii) as plain lists for the evaluator."""
    centers, radii = construct_packing(instance["n"])
    return np.asarray(centers, dtype=float).tolist(), np.asarray(radii, dtype=float).tolist()
