def survivor(n: int, k: int) -> int:
    if k == 1:
        return n
    # shrink the circle a whole round at a time while n >= k, remembering each size
    sizes = []
    while n >= k:
        sizes.append(n)
        n -= n // k
    pos = 0  # 0-based survivor in a circle of n < k people
    for size in range(2, n + 1):
        pos = (pos + k) % size
    for size in reversed(sizes):
        # one round removed size // k people; map the position back into the larger circle
        pos -= size % k
        if pos < 0:
            pos += size
        else:
            pos += pos // (k - 1)
    return pos + 1
