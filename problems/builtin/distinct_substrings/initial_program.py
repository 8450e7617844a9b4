# EVOLVE-BLOCK-START
def count_distinct(s: str) -> int:
    """All substrings in a set for short strings; the upper bound n(n+1)/2 otherwise."""
    n = len(s)
    if n <= 1500:
        return len({s[i:j] for i in range(n) for j in range(i + 1, n + 1)})
    return n * (n + 1) // 2
# EVOLVE-BLOCK-END
