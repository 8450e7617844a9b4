def parse_bool(s: str):
    if s == "yes":
        return True
    if s == "no":
        return False
    return None
