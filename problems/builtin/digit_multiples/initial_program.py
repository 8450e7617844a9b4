# EVOLVE-BLOCK-START
def count_special(n: int, k: int, m: int) -> int:
    """Brute force for small n; a density estimate otherwise."""
    if n <= 10**6:
        return sum(1 for x in range(m, n + 1, m) if sum(map(int, str(x))) % k == 0)
    return n // (k * m)
# EVOLVE-BLOCK-END
