# EVOLVE-BLOCK-START
def to_snake(name: str) -> str:
    return None
# EVOLVE-BLOCK-END
