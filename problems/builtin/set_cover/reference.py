import random


def _greedy(n, sets, costs, forced, banned):
    chosen = list(forced)
    covered = set()
    for i in chosen:
        covered |= sets[i]
    while len(covered) < n:
        useful = [k for k in range(len(sets)) if sets[k] - covered]
        allowed = [k for k in useful if k not in banned] or useful  # banned only as a last resort
        i = min(allowed, key=lambda k: costs[k] / len(sets[k] - covered))
        chosen.append(i)
        covered |= sets[i]
    return _prune(chosen, sets, costs)


def _prune(chosen, sets, costs):
    """Drop sets (most expensive first) whose elements the others still cover."""
    count = {}
    for i in chosen:
        for e in sets[i]:
            count[e] = count.get(e, 0) + 1
    keep = []
    for i in sorted(chosen, key=lambda k: -costs[k]):
        if all(count[e] > 1 for e in sets[i]):
            for e in sets[i]:
                count[e] -= 1
        else:
            keep.append(i)
    return keep


def cover(instance: dict) -> list[int]:
    """Greedy cost per new element with pruning, then ban-and-repair local search."""
    n, costs = instance["n_elements"], instance["costs"]
    sets = [set(s) for s in instance["sets"]]
    rng = random.Random(31337)
    best = _greedy(n, sets, costs, [], set())
    best_cost = sum(costs[i] for i in best)
    for _ in range(150):
        banned = set(rng.sample(best, max(1, len(best) // 4)))
        forced = [i for i in best if i not in banned]
        cand = _greedy(n, sets, costs, forced, banned)
        cost = sum(costs[i] for i in cand)
        if cost <= best_cost:
            best, best_cost = cand, cost
    return sorted(best)
