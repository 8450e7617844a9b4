# EVOLVE-BLOCK-START
def choose(instance: dict) -> list[int]:
    """Take items in the order given while they still fit."""
    c1, c2 = instance["capacity"]
    used1 = used2 = 0
    chosen = []
    for i, (w1, w2) in enumerate(instance["weights"]):
        if used1 + w1 <= c1 and used2 + w2 <= c2:
            chosen.append(i)
            used1 += w1
            used2 += w2
    return chosen
# EVOLVE-BLOCK-END
