# EVOLVE-BLOCK-START
def count_words(s: str) -> int:
    return None
# EVOLVE-BLOCK-END
