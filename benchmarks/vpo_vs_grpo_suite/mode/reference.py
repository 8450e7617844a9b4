def mode(xs: list[int]):
    if not xs:
        return None
    return min(set(xs), key=lambda x: (-xs.count(x), x))
