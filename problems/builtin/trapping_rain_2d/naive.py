def trapped(heights):
    rows, cols = len(heights), len(heights[0])
    inf = float("inf")
    water = [[heights[r][c] if r in (0, rows - 1) or c in (0, cols - 1) else inf for c in range(cols)] for r in range(rows)]
    changed = True
    while changed:  # water level = max(height, min over neighbours' levels), to a fixpoint
        changed = False
        for r in range(1, rows - 1):
            for c in range(1, cols - 1):
                low = min(water[r - 1][c], water[r + 1][c], water[r][c - 1], water[r][c + 1])
                level = max(heights[r][c], low)
                if level < water[r][c]:
                    water[r][c] = level
                    changed = True
    return sum(water[r][c] - heights[r][c] for r in range(rows) for c in range(cols))
