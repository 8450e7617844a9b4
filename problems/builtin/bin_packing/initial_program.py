# EVOLVE-BLOCK-START
def pack(instance: dict) -> list[int]:
    """Next fit: open a new bin whenever the current one cannot take the item."""
    cap = instance["capacity"]
    result, bin_index, load = [], 0, 0
    for size in instance["sizes"]:
        if load + size > cap:
            bin_index += 1
            load = 0
        load += size
        result.append(bin_index)
    return result
# EVOLVE-BLOCK-END
