def to_roman(n: int) -> str:
    out = ""
    for value, letter in [(1000, "M"), (500, "D"), (100, "C"), (50, "L"), (10, "X"), (5, "V"), (1, "I")]:
        out, n = out + letter * (n // value), n % value
    return out
