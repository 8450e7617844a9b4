def median(xs: list[int]):
    return sorted(xs)[len(xs) // 2]
