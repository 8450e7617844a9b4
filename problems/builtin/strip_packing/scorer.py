def score(instance, output):
    rects, width = instance["rects"], instance["width"]
    if type(output) not in (list, tuple) or len(output) != len(rects):
        return 0.0
    boxes = []
    for pos, (w, h) in zip(output, rects):
        if type(pos) not in (list, tuple) or len(pos) != 2 or any(type(t) is not int for t in pos):
            return 0.0
        x, y = pos
        if x < 0 or y < 0 or x + w > width:
            return 0.0
        boxes.append((x, y, x + w, y + h))
    boxes.sort()
    for i, (x1, y1, x2, y2) in enumerate(boxes):  # sorted by x: stop once others start right of x2
        for a1, b1, a2, b2 in boxes[i + 1 :]:
            if a1 >= x2:
                break
            if b1 < y2 and y1 < b2:
                return 0.0
    height = max(b[3] for b in boxes)
    return min(1.0, instance["best_known"] / height) if height > 0 else 0.0
