def parse_bool(s: str):
    t = s.strip().lower()
    if t in {"yes", "y", "true", "1", "on"}:
        return True
    if t in {"no", "n", "false", "0", "off"}:
        return False
    return None
