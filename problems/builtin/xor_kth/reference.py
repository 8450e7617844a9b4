import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    basis = [0] * 60  # basis[b]: vector with leading bit b
    rank = 0
    for tok in data[2 : 2 + n]:
        x = int(tok)
        for b in range(59, -1, -1):
            if not x >> b & 1:
                continue
            if basis[b]:
                x ^= basis[b]
            else:
                basis[b] = x
                rank += 1
                break
    # reduced row echelon form: each leading bit appears in one vector only
    for b in range(60):
        if basis[b]:
            for c in range(b + 1, 60):
                if basis[c] >> b & 1:
                    basis[c] ^= basis[b]
    vecs = [basis[b] for b in range(60) if basis[b]]  # increasing leading bit
    zero = rank < n  # some non-empty subset XORs to 0
    size = (1 << rank) - (0 if zero else 1)
    out = []
    for tok in data[2 + n : 2 + n + q]:
        k = int(tok)
        if k > size:
            out.append("-1")
            continue
        idx = k - 1 if zero else k  # index into the sorted span (0 is index 0)
        value = 0
        for i, v in enumerate(vecs):
            if idx >> i & 1:
                value ^= v
        out.append(str(value))
    sys.stdout.write("\n".join(out) + "\n")


main()
