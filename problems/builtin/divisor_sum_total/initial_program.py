import math

MOD = 1_000_000_007


# EVOLVE-BLOCK-START
def total(n: int) -> int:
    """Each d divides n // d numbers up to n: linear time, an estimate beyond 10^7."""
    if n <= 10**7:
        return sum(d * (n // d) for d in range(1, n + 1)) % MOD
    return int(math.pi ** 2 / 12 * n * n) % MOD
# EVOLVE-BLOCK-END
