import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    a = list(map(int, data[1 : n + 1]))
    rank = {v: i + 1 for i, v in enumerate(sorted(set(a)))}
    m = len(rank)
    best = [0] * (m + 1)  # Fenwick tree of (length, count) over value ranks
    cnt = [0] * (m + 1)
    for x in a:
        r = rank[x] - 1  # strictly smaller values: ranks 1..r
        bl, bc = 0, 1
        i = r
        while i > 0:
            if best[i] > bl:
                bl, bc = best[i], cnt[i]
            elif best[i] == bl and bl > 0:
                bc = (bc + cnt[i]) % MOD
            i -= i & -i
        length = bl + 1
        i = r + 1
        while i <= m:
            if best[i] < length:
                best[i], cnt[i] = length, bc
            elif best[i] == length:
                cnt[i] = (cnt[i] + bc) % MOD
            i += i & -i
    bl, bc = 0, 0
    i = m
    while i > 0:
        if best[i] > bl:
            bl, bc = best[i], cnt[i]
        elif best[i] == bl:
            bc = (bc + cnt[i]) % MOD
        i -= i & -i
    print(bl, bc % MOD)


main()
