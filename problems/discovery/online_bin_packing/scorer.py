def score(instance, output):
    """L1 bound / bins used by the candidate's assignment, recomputed here from the assignment
    alone (no count the candidate reports is trusted); an invalid packing raises (scores 0)."""
    items, cap = instance["items"], instance["capacity"]
    if type(output) not in (list, tuple) or len(output) != len(items):
        raise ValueError(f"need one bin index per item ({len(items)})")
    loads = {}
    for i, (b, size) in enumerate(zip(output, items)):
        if type(b) is not int or b < 0:
            raise ValueError(f"item {i}: bin index {b!r} is not an int >= 0")
        loads[b] = loads.get(b, 0) + size
        if loads[b] > cap:
            raise ValueError(f"item {i} overfills bin {b}")
    lower = -(-sum(items) // cap)  # ceil: the L1 bound
    return lower / len(loads)
