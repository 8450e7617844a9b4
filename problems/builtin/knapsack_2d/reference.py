import random


def choose(instance: dict) -> list[int]:
    """Greedy by value per scaled weight, then drop-one / add-many local search with kicks."""
    values, weights = instance["values"], instance["weights"]
    c1, c2 = instance["capacity"]
    n = len(values)
    rng = random.Random(777)
    ratio = sorted(range(n), key=lambda i: -values[i] / (weights[i][0] / c1 + weights[i][1] / c2 + 1e-9))

    def fill(chosen, used1, used2, order):
        for i in order:
            if not chosen[i] and used1 + weights[i][0] <= c1 and used2 + weights[i][1] <= c2:
                chosen[i] = True
                used1 += weights[i][0]
                used2 += weights[i][1]
        return used1, used2

    def total(chosen):
        return sum(values[i] for i in range(n) if chosen[i])

    best = [False] * n
    fill(best, 0, 0, ratio)
    best_value = total(best)
    current, current_value = best[:], best_value
    for step in range(3000):
        cand = current[:]
        inside = [i for i in range(n) if cand[i]]
        for i in rng.sample(inside, min(len(inside), 1 + step % 3)):
            cand[i] = False
        used1 = sum(weights[i][0] for i in range(n) if cand[i])
        used2 = sum(weights[i][1] for i in range(n) if cand[i])
        order = ratio if step % 2 else sorted(ratio, key=lambda i: rng.random())
        fill(cand, used1, used2, order)
        value = total(cand)
        if value >= current_value:
            current, current_value = cand, value
            if value > best_value:
                best, best_value = cand[:], value
    return [i for i in range(n) if best[i]]
