def caesar(s: str, k: int) -> str:
    out = []
    for c in s:
        if c.isascii() and c.isalpha():
            base = ord("a") if c.islower() else ord("A")
            c = chr((ord(c) - base + k) % 26 + base)
        out.append(c)
    return "".join(out)
