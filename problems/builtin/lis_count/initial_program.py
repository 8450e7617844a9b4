import sys
from bisect import bisect_left


# EVOLVE-BLOCK-START
def solve(a):
    """Length of the LIS by patience sorting; the count is not computed yet."""
    tails = []
    for x in a:
        i = bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails), 1


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    a = [int(x) for x in data[1 : n + 1]]
    length, count = solve(a)
    print(length, count)


main()
# EVOLVE-BLOCK-END
