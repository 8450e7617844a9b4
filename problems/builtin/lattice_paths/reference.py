import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.buffer.read().split()
    h, w, k = int(data[0]), int(data[1]), int(data[2])
    pts = sorted((int(data[3 + 2 * i]), int(data[4 + 2 * i])) for i in range(k))
    size = h + w + 1
    fact = [1] * size
    for i in range(1, size):
        fact[i] = fact[i - 1] * i % MOD
    inv = [1] * size
    inv[-1] = pow(fact[-1], MOD - 2, MOD)
    for i in range(size - 1, 0, -1):
        inv[i - 1] = inv[i] * i % MOD

    def paths(dx, dy):
        if dx < 0 or dy < 0:
            return 0
        return fact[dx + dy] * inv[dx] % MOD * inv[dy] % MOD

    pts.append((h, w))
    if (h, w) in set(pts[:-1]):
        print(0)
        return
    bad = []  # bad[i]: paths from origin to pts[i] avoiding earlier blocked points
    earlier = []  # (x, y, bad) of earlier points with a non-zero count
    for x, y in pts:
        through = sum(
            b * fact[x - px + y - py] * inv[x - px] * inv[y - py]
            for px, py, b in earlier
            if py <= y  # sorted by x, so px <= x already
        )
        count = (paths(x, y) - through) % MOD
        bad.append(count)
        if count:
            earlier.append((x, y, count))
    print(bad[-1] % MOD)


main()
