def title_case(s: str) -> str:
    small = {"a", "an", "and", "of", "the", "in"}
    words = s.lower().split(" ")
    return " ".join(w if i and w in small else w.capitalize() for i, w in enumerate(words))
