import sys

data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
nums = [int(x) for x in data[2 : 2 + n]]
values = set()
for mask in range(1, 1 << n):
    x = 0
    for i in range(n):
        if mask >> i & 1:
            x ^= nums[i]
    values.add(x)
s = sorted(values)
print("\n".join(str(s[k - 1]) if k <= len(s) else "-1" for k in (int(t) for t in data[2 + n : 2 + n + q])))
