import operator


def score(instance, output):
    """record / C for the step function whose heights the candidate returned, C recomputed here:
    C = max_t (f*f)(t) / (integral f)^2 (first inequality, f >= 0) or max_t |(f*f)(t)| /
    (integral f)^2 (third inequality, f of any sign), f the step function on [-1/4, 1/4] with
    n equal steps.  Invalid heights raise (score 0)."""
    h = output
    if type(h) not in (list, tuple) or not 1 <= len(h) <= instance["max_steps"]:
        raise ValueError(f"return between 1 and {instance['max_steps']} step heights")
    if any(type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf")) for v in h):
        raise ValueError("heights must be finite numbers")
    h = [float(v) for v in h]
    if instance["variant"] == "first" and min(h) < 0:
        raise ValueError("the first inequality needs f >= 0")
    n, total = len(h), sum(h)
    if total <= 0:
        raise ValueError("the integral of f must be positive")
    peak = 0.0
    for k in range(2 * n - 1):  # (f*f) at the k-th knot, times n/... : sum_{i+j=k} h_i h_j
        lo, hi = max(0, k - n + 1), min(k, n - 1)
        value = sum(map(operator.mul, h[lo:hi + 1], reversed(h[k - hi:k - lo + 1])))
        peak = max(peak, abs(value) if instance["variant"] == "third" else value)
    constant = 2 * n * peak / total**2  # dx = 1/(2n): max(f*f) = dx*peak, integral = dx*total
    return instance["record"] / constant
