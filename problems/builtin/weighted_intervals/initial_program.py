import sys


# EVOLVE-BLOCK-START
def solve(intervals):
    """Greedy by earliest end: optimal for unit weights only."""
    total, last_end = 0, -1
    for s, e, w in sorted(intervals, key=lambda t: t[1]):
        if s >= last_end:
            total += w
            last_end = e
    return total


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    vals = list(map(int, data[1 : 1 + 3 * n]))
    intervals = [tuple(vals[3 * i : 3 * i + 3]) for i in range(n)]
    print(solve(intervals))


main()
# EVOLVE-BLOCK-END
