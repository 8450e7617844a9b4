def score(instance, output):
    values, weights = instance["values"], instance["weights"]
    c1, c2 = instance["capacity"]
    if type(output) not in (list, tuple):
        return 0.0
    if any(type(i) is not int or not 0 <= i < len(values) for i in output) or len(set(output)) != len(output):
        return 0.0
    if sum(weights[i][0] for i in output) > c1 or sum(weights[i][1] for i in output) > c2:
        return 0.0
    return min(1.0, sum(values[i] for i in output) / instance["best_known"])
