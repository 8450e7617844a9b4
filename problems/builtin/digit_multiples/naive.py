def count_special(n, k, m):
    return sum(1 for x in range(1, n + 1) if x % m == 0 and sum(map(int, str(x))) % k == 0)
