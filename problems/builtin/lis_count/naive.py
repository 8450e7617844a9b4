import sys

MOD = 1_000_000_007
data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1 : n + 1]]
length = [1] * n
count = [1] * n
for i in range(n):
    for j in range(i):
        if a[j] < a[i]:
            if length[j] + 1 > length[i]:
                length[i], count[i] = length[j] + 1, count[j]
            elif length[j] + 1 == length[i]:
                count[i] += count[j]
best = max(length)
print(best, sum(c for l, c in zip(length, count) if l == best) % MOD)
