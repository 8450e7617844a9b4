# EVOLVE-BLOCK-START
def trapped(heights: list[list[int]]) -> int:
    """Each cell holds water up to the lowest of the highest walls in its row and column."""
    rows, cols = len(heights), len(heights[0])
    total = 0
    for r in range(1, rows - 1):
        for c in range(1, cols - 1):
            left = max(heights[r][:c])
            right = max(heights[r][c + 1 :])
            up = max(heights[i][c] for i in range(r))
            down = max(heights[i][c] for i in range(r + 1, rows))
            level = min(left, right, up, down)
            total += max(0, level - heights[r][c])
    return total
# EVOLVE-BLOCK-END
