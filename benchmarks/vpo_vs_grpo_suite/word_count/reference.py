def count_words(s: str) -> int:
    return len(s.split())
