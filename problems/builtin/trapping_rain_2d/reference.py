import heapq


def trapped(heights: list[list[int]]) -> int:
    rows, cols = len(heights), len(heights[0])
    seen = [[False] * cols for _ in range(rows)]
    heap = []
    for r in range(rows):
        for c in range(cols):
            if r in (0, rows - 1) or c in (0, cols - 1):
                heap.append((heights[r][c], r, c))
                seen[r][c] = True
    heapq.heapify(heap)
    total = 0
    while heap:
        level, r, c = heapq.heappop(heap)
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < rows and 0 <= nc < cols and not seen[nr][nc]:
                seen[nr][nc] = True
                h = heights[nr][nc]
                if h < level:
                    total += level - h
                    h = level
                heapq.heappush(heap, (h, nr, nc))
    return total
