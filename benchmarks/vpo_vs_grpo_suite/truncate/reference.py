def truncate(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."
