def _best_subset(items, sizes, cap, budget):
    """Largest fill <= cap of a subset of `items` (sorted by size, descending) holding items[0]."""
    first = items[0]
    best = [sizes[first], [first]]
    rest = items[1:]
    suffix = [0] * (len(rest) + 1)
    for i in range(len(rest) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + sizes[rest[i]]
    nodes = [0]
    chosen = [first]

    def dfs(i, load):
        if best[0] == cap or nodes[0] > budget:
            return
        nodes[0] += 1
        if load > best[0]:
            best[0], best[1] = load, chosen[:]
        if i == len(rest) or load + suffix[i] <= best[0]:
            return
        prev = None
        for j in range(i, len(rest)):
            s = sizes[rest[j]]
            if s == prev or load + s > cap:
                continue  # equal sizes: trying one of them is enough
            prev = s
            chosen.append(rest[j])
            dfs(j + 1, load + s)
            chosen.pop()
            if best[0] == cap or nodes[0] > budget:
                return

    dfs(0, sizes[first])
    return best[1]


def pack(instance: dict) -> list[int]:
    """Minimum bin slack: fill each bin as tightly as a bounded subset search allows."""
    cap, sizes = instance["capacity"], instance["sizes"]
    remaining = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    result = [0] * len(sizes)
    b = 0
    while remaining:
        chosen = _best_subset(remaining, sizes, cap, 3000)
        taken = set(chosen)
        for i in chosen:
            result[i] = b
        remaining = [i for i in remaining if i not in taken]
        b += 1
    return result
