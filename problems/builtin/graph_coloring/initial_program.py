# EVOLVE-BLOCK-START
def color(instance: dict) -> list[int]:
    """First fit in vertex order: the smallest colour no coloured neighbour uses."""
    n = instance["n"]
    adj = [set() for _ in range(n)]
    for u, v in instance["edges"]:
        adj[u].add(v)
        adj[v].add(u)
    colors = [-1] * n
    for v in range(n):
        used = {colors[u] for u in adj[v]}
        c = 0
        while c in used:
            c += 1
        colors[v] = c
    return colors
# EVOLVE-BLOCK-END
