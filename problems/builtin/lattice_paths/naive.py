import sys

MOD = 1_000_000_007
data = sys.stdin.read().split()
h, w, k = int(data[0]), int(data[1]), int(data[2])
blocked = {(int(data[3 + 2 * i]), int(data[4 + 2 * i])) for i in range(k)}
row = [0] * (w + 1)
for x in range(h + 1):
    for y in range(w + 1):
        if (x, y) in blocked:
            row[y] = 0
        elif x == 0 and y == 0:
            row[y] = 1
        else:
            row[y] = (row[y] + (row[y - 1] if y else 0)) % MOD
print(row[w])
