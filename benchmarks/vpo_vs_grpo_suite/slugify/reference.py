def slugify(s: str) -> str:
    import re
    return "-".join(re.findall(r"[a-z0-9]+", s.lower()))
