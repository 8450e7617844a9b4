def mode(xs: list[int]):
    from collections import Counter
    return Counter(xs).most_common(1)[0][0]
