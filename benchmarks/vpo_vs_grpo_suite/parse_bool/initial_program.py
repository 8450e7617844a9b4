# EVOLVE-BLOCK-START
def parse_bool(s: str):
    return None
# EVOLVE-BLOCK-END
