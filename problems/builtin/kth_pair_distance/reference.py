def kth_distance(nums: list[int], k: int) -> int:
    a = sorted(nums)
    n = len(a)

    def pairs_within(d):
        count, i = 0, 0
        for j in range(n):
            while a[j] - a[i] > d:
                i += 1
            count += j - i
        return count

    lo, hi = 0, a[-1] - a[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if pairs_within(mid) >= k:
            hi = mid
        else:
            lo = mid + 1
    return lo
