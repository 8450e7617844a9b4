import math


def count_primes(lo: int, hi: int) -> int:
    lo = max(lo, 2)
    if hi < lo:
        return 0
    root = math.isqrt(hi)
    base = bytearray([1]) * (root + 1)
    base[0:2] = b"\x00\x00"[: min(2, root + 1)]
    for p in range(2, math.isqrt(root) + 1):
        if base[p]:
            base[p * p :: p] = bytes(len(range(p * p, root + 1, p)))
    size = hi - lo + 1
    seg = bytearray([1]) * size
    for p in range(2, root + 1):
        if base[p]:
            start = max(p * p, (lo + p - 1) // p * p)
            if start <= hi:
                seg[start - lo :: p] = bytes(len(range(start - lo, size, p)))
    return sum(seg)
