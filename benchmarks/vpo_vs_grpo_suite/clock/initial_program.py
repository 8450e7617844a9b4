# EVOLVE-BLOCK-START
def to_12h(t: str) -> str:
    return None
# EVOLVE-BLOCK-END
