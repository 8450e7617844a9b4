import sys

MOD = 1_000_000_007


# EVOLVE-BLOCK-START
def paths(dx, dy, fact, inv):
    if dx < 0 or dy < 0:
        return 0
    return fact[dx + dy] * inv[dx] % MOD * inv[dy] % MOD


def solve(h, w, blocked):
    """All paths minus, for each blocked point, the paths through it."""
    fact = [1] * (h + w + 1)
    for i in range(1, h + w + 1):
        fact[i] = fact[i - 1] * i % MOD
    inv = [pow(f, MOD - 2, MOD) for f in fact]
    total = paths(h, w, fact, inv)
    for x, y in blocked:
        total -= paths(x, y, fact, inv) * paths(h - x, w - y, fact, inv)
    return total % MOD


def main():
    data = sys.stdin.read().split()
    h, w, k = int(data[0]), int(data[1]), int(data[2])
    blocked = [(int(data[3 + 2 * i]), int(data[4 + 2 * i])) for i in range(k)]
    print(solve(h, w, blocked))


main()
# EVOLVE-BLOCK-END
