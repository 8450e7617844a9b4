import sys


# EVOLVE-BLOCK-START
def build_basis(nums):
    basis = []
    for x in nums:
        for b in basis:
            x = min(x, x ^ b)
        if x:
            basis.append(x)
            basis.sort(reverse=True)
    return basis


def kth(basis, k):
    """k-th smallest XOR of a non-empty subset of the basis."""
    if k >= 1 << len(basis):
        return -1
    reduced = sorted(basis)
    for i in range(len(reduced)):
        for j in range(i + 1, len(reduced)):
            reduced[j] = min(reduced[j], reduced[j] ^ reduced[i])
    reduced.sort()
    value = 0
    for i, b in enumerate(reduced):
        if k >> i & 1:
            value ^= b
    return value


def main():
    data = sys.stdin.read().split()
    n, q = int(data[0]), int(data[1])
    nums = [int(x) for x in data[2 : 2 + n]]
    basis = build_basis(nums)
    out = [str(kth(basis, int(k))) for k in data[2 + n : 2 + n + q]]
    print("\n".join(out))


main()
# EVOLVE-BLOCK-END
