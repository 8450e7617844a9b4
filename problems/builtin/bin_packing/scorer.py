def score(instance, output):
    """best_known / bins used, capped at 1; an invalid packing raises, saying why."""
    sizes, cap = instance["sizes"], instance["capacity"]
    if type(output) not in (list, tuple) or len(output) != len(sizes):
        raise ValueError(f"return one bin index per item ({len(sizes)} ints); got {output!r:.60}")
    loads = {}
    for i, (b, s) in enumerate(zip(output, sizes)):
        if type(b) is not int or b < 0:
            raise ValueError(f"item {i}: bin {b!r:.30} is not an int >= 0")
        loads[b] = loads.get(b, 0) + s
    if not loads:
        raise ValueError("no items were packed")
    if max(loads.values()) > cap:
        b = max(loads, key=loads.get)
        raise ValueError(f"bin {b} holds {loads[b]}, over the capacity {cap}")
    return min(1.0, instance["best_known"] / len(loads))
