def to_12h(t: str) -> str:
    h, m = map(int, t.split(":"))
    return f"{h % 12}:{m:02d} {'PM' if h > 12 else 'AM'}"
