import sys
from bisect import bisect_right


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    vals = list(map(int, data[1 : 1 + 3 * n]))
    items = sorted((vals[3 * i + 1], vals[3 * i], vals[3 * i + 2]) for i in range(n))
    ends = [e for e, _, _ in items]
    best = [0] * (n + 1)  # best[i]: optimum over the first i intervals by end
    for i, (e, s, w) in enumerate(items):
        j = bisect_right(ends, s, 0, i)  # intervals ending at or before s
        take = best[j] + w
        best[i + 1] = take if take > best[i] else best[i]
    print(best[n])


main()
