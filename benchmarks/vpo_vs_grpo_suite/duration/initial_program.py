# EVOLVE-BLOCK-START
def parse_duration(s: str) -> int:
    return None
# EVOLVE-BLOCK-END
