"""Autocorrelation inequalities (AlphaEvolve B.1 / B.3): find a step function f on [-1/4, 1/4]
whose autoconvolution has a small peak relative to (integral of f)^2."""
import numpy as np


# EVOLVE-BLOCK-START
def construct_function() -> np.ndarray:
    """Minimise a smoothed peak (log-sum-exp with a rising sharpness) of the normalised
    autoconvolution with L-BFGS-B from a seeded start: 200 steps. f >= 0."""
    from scipy.optimize import minimize

    n = 200
    h = np.ones(n) + 0.1 * np.random.default_rng(0).random(n)
    for beta in (10, 30, 100, 300, 1000, 3000):
        def objective(h):
            total = h.sum()
            conv = np.convolve(h, h)
            c = conv * 2 * n / total**2
            a = c
            top = a.max()
            w = np.exp(beta * (a - top))
            p = w / w.sum()
            value = top + np.log(w.sum()) / beta
            p = p * 1.0
            grad = 2 * np.convolve(p[::-1], h)[n - 1:2 * n - 1][::-1] * 2 * n / total**2
            grad -= 2 * (p @ conv) * 2 * n / total**3
            return value, grad
        h = minimize(objective, h, jac=True, method="L-BFGS-B", bounds=[(0, None)] * n,
                     options={"maxiter": 3000}).x
    return h
# EVOLVE-BLOCK-END


def heights(instance: dict) -> list[float]:
    """The fixed entry point: the heights as plain floats for the evaluator."""
    return [float(v) for v in np.asarray(construct_function(), dtype=float).ravel()]
