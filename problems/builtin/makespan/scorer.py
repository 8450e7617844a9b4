def score(instance, output):
    times, m = instance["times"], instance["machines"]
    if type(output) not in (list, tuple) or len(output) != len(times):
        return 0.0
    loads = [0] * m
    for machine, t in zip(output, times):
        if type(machine) is not int or not 0 <= machine < m:
            return 0.0
        loads[machine] += t
    return min(1.0, instance["best_known"] / max(loads))
