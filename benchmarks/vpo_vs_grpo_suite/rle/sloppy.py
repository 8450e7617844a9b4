def rle(s: str) -> str:
    from itertools import groupby
    return "".join(c + str(len(list(g))) for c, g in groupby(s))
