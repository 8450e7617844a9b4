def kth_distance(nums, k):
    n = len(nums)
    return sorted(abs(nums[i] - nums[j]) for i in range(n) for j in range(i + 1, n))[k - 1]
