import sys

data = sys.stdin.read().split()
n = int(data[0])
v = list(map(int, data[1 : 1 + 3 * n]))
items = sorted(((v[3 * i], v[3 * i + 1], v[3 * i + 2]) for i in range(n)), key=lambda t: t[1])
best = []
for i, (s, e, w) in enumerate(items):
    b = w
    for j in range(i):
        if items[j][1] <= s and best[j] + w > b:
            b = best[j] + w
    best.append(b)
print(max(best))
