MOD = 1_000_000_007


def tilings(w: int, n: int) -> int:
    full = (1 << w) - 1

    def fill(row, cur, nxt, out):
        if row == w:
            out.append(nxt)
            return
        if cur >> row & 1:
            fill(row + 1, cur, nxt, out)
            return
        fill(row + 1, cur, nxt | 1 << row, out)  # horizontal domino sticks into next column
        if row + 1 < w and not cur >> (row + 1) & 1:
            fill(row + 2, cur, nxt, out)  # vertical domino

    moves = {}
    for mask in range(full + 1):
        out = []
        fill(0, mask, 0, out)
        moves[mask] = out
    ways = {0: 1}
    for _ in range(n):
        nxt = {}
        for mask, c in ways.items():
            for m2 in moves[mask]:
                nxt[m2] = (nxt.get(m2, 0) + c) % MOD
        ways = nxt
    return ways.get(0, 0)
