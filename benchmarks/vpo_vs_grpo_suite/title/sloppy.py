def title_case(s: str) -> str:
    return s.title()
