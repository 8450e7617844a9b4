MOD = 1_000_000_007


def _transfer(w):
    size = 1 << w
    mat = [[0] * size for _ in range(size)]

    def fill(row, cur, nxt, src):
        if row == w:
            mat[src][nxt] += 1
            return
        if cur >> row & 1:
            fill(row + 1, cur, nxt, src)
            return
        fill(row + 1, cur, nxt | 1 << row, src)
        if row + 1 < w and not cur >> (row + 1) & 1:
            fill(row + 2, cur, nxt, src)

    for mask in range(size):
        fill(0, mask, 0, mask)
    return mat


def _mul(a, b):
    size = len(a)
    bt = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) % MOD for col in bt] for row in a]


def tilings(w: int, n: int) -> int:
    mat = _transfer(w)
    size = len(mat)
    result = [[int(i == j) for j in range(size)] for i in range(size)]
    while n:
        if n & 1:
            result = _mul(result, mat)
        mat = _mul(mat, mat)
        n >>= 1
    return result[0][0]
