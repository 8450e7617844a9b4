def count_distinct(s):
    n = len(s)
    return len({s[i:j] for i in range(n) for j in range(i + 1, n + 1)})
