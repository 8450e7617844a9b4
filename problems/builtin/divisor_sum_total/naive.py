MOD = 1_000_000_007


def total(n):
    sigma = [0] * (n + 1)
    for d in range(1, n + 1):
        for x in range(d, n + 1, d):
            sigma[x] += d
    return sum(sigma) % MOD
