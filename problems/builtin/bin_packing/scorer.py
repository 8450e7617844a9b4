def score(instance, output):
    sizes, cap = instance["sizes"], instance["capacity"]
    if type(output) not in (list, tuple) or len(output) != len(sizes):
        return 0.0
    loads = {}
    for b, s in zip(output, sizes):
        if type(b) is not int or b < 0:
            return 0.0
        loads[b] = loads.get(b, 0) + s
    if not loads or max(loads.values()) > cap:
        return 0.0
    return min(1.0, instance["best_known"] / len(loads))
