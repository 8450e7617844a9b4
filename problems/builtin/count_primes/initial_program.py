import math


# EVOLVE-BLOCK-START
def count_primes(lo: int, hi: int) -> int:
    """Exact sieve for small hi; for large hi an estimate from the prime number theorem."""
    if hi <= 10**6:
        sieve = bytearray([1]) * (hi + 1)
        sieve[0:2] = b"\x00\x00"[: min(2, hi + 1)]
        for p in range(2, math.isqrt(hi) + 1):
            if sieve[p]:
                sieve[p * p :: p] = bytes(len(range(p * p, hi + 1, p)))
        return sum(sieve[lo:])
    return round((hi - lo + 1) / math.log(hi))
# EVOLVE-BLOCK-END
