# EVOLVE-BLOCK-START
def title_case(s: str) -> str:
    return None
# EVOLVE-BLOCK-END
