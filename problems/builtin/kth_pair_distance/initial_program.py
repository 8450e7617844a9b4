import heapq


# EVOLVE-BLOCK-START
def kth_distance(nums: list[int], k: int) -> int:
    """Pop pairs in distance order from a heap: fast only when k is small."""
    a = sorted(nums)
    n = len(a)
    if k > 200000:
        return (a[-1] - a[0]) * k // (n * (n - 1) // 2)
    heap = [(a[i + 1] - a[i], i, i + 1) for i in range(n - 1)]
    heapq.heapify(heap)
    for _ in range(k - 1):
        d, i, j = heapq.heappop(heap)
        if j + 1 < n:
            heapq.heappush(heap, (a[j + 1] - a[i], i, j + 1))
    return heap[0][0]
# EVOLVE-BLOCK-END
