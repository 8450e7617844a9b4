def score(instance, output):
    """best_known / makespan, capped at 1; an invalid assignment raises, saying why."""
    times, m = instance["times"], instance["machines"]
    if type(output) not in (list, tuple) or len(output) != len(times):
        raise ValueError(f"return one machine index per job ({len(times)} ints); got {output!r:.60}")
    loads = [0] * m
    for j, (machine, t) in enumerate(zip(output, times)):
        if type(machine) is not int or not 0 <= machine < m:
            raise ValueError(f"job {j}: machine {machine!r:.30} is not an int in 0..{m - 1}")
        loads[machine] += t
    return min(1.0, instance["best_known"] / max(loads))
