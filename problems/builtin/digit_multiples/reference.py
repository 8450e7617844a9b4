def count_special(n: int, k: int, m: int) -> int:
    digits = list(map(int, str(n)))
    # ways[(s, r)]: prefixes strictly below n's prefix, digit sum s mod k, value r mod m
    ways = {}
    tight_s, tight_r = 0, 0
    for d in digits:
        nxt = {}
        for (s, r), c in ways.items():
            for e in range(10):
                key = ((s + e) % k, (r * 10 + e) % m)
                nxt[key] = nxt.get(key, 0) + c
        for e in range(d):
            key = ((tight_s + e) % k, (tight_r * 10 + e) % m)
            nxt[key] = nxt.get(key, 0) + 1
        tight_s, tight_r = (tight_s + d) % k, (tight_r * 10 + d) % m
        ways = nxt
    total = ways.get((0, 0), 0) + (1 if tight_s == 0 and tight_r == 0 else 0)
    return total - 1  # x = 0 was counted
