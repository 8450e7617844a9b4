# EVOLVE-BLOCK-START
def place(instance: dict) -> list[list[int]]:
    """Shelves in the order given: fill a row left to right, then start a new row on top."""
    width = instance["width"]
    x = y = shelf = 0
    out = []
    for w, h in instance["rects"]:
        if x + w > width:
            x, y, shelf = 0, y + shelf, 0
        out.append([x, y])
        x += w
        shelf = max(shelf, h)
    return out
# EVOLVE-BLOCK-END
