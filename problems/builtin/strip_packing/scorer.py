def score(instance, output):
    """best_known / strip height, capped at 1; an invalid placement raises, saying why."""
    rects, width = instance["rects"], instance["width"]
    if type(output) not in (list, tuple) or len(output) != len(rects):
        raise ValueError(f"return one [x, y] position per rectangle ({len(rects)}); got {output!r:.60}")
    boxes = []
    for k, (pos, (w, h)) in enumerate(zip(output, rects)):
        if type(pos) not in (list, tuple) or len(pos) != 2 or any(type(t) is not int for t in pos):
            raise ValueError(f"rectangle {k}: position {pos!r:.30} is not a pair of ints")
        x, y = pos
        if x < 0 or y < 0 or x + w > width:
            raise ValueError(f"rectangle {k} ({w} x {h}) at ({x}, {y}) leaves the strip of width {width}")
        boxes.append((x, y, x + w, y + h))
    boxes.sort()
    for i, (x1, y1, x2, y2) in enumerate(boxes):  # sorted by x: stop once others start right of x2
        for a1, b1, a2, b2 in boxes[i + 1 :]:
            if a1 >= x2:
                break
            if b1 < y2 and y1 < b2:
                raise ValueError(f"rectangles at ({x1}, {y1}) and ({a1}, {b1}) overlap")
    height = max(b[3] for b in boxes)
    return min(1.0, instance["best_known"] / height) if height > 0 else 0.0
