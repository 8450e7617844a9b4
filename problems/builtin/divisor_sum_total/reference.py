MOD = 1_000_000_007


def total(n: int) -> int:
    # sum over d of d * (n // d), grouping the d that share the same quotient
    result = 0
    d = 1
    while d <= n:
        q = n // d
        last = n // q
        result += q * (d + last) * (last - d + 1) // 2
        d = last + 1
    return result % MOD
