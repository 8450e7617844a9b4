# EVOLVE-BLOCK-START
def slugify(s: str) -> str:
    return None
# EVOLVE-BLOCK-END
