"""Autocorrelation inequalities (AlphaEvolve B.1 / B.3): find a step function f on [-1/4, 1/4]
whose autoconvolution has a small peak relative to (integral of f)^2."""
import numpy as np


# EVOLVE-BLOCK-START
def construct_function() -> np.ndarray:
    """Heights of f on n equal steps of [-1/4, 1/4] (n <= 1000). The constant function: C = 2."""
    return np.ones(50)
# EVOLVE-BLOCK-END


def heights(instance: dict) -> list[float]:
    """The fixed entry point: the heights as plain floats for the evaluator."""
    return [float(v) for v in np.asarray(construct_function(), dtype=float).ravel()]
