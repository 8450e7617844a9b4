def truncate(s: str, n: int) -> str:
    return s[:n] + "..." if len(s) > n else s
