# EVOLVE-BLOCK-START
def schedule(instance: dict) -> list[int]:
    """Round robin: job i runs on machine i mod m."""
    m = instance["machines"]
    return [i % m for i in range(len(instance["times"]))]
# EVOLVE-BLOCK-END
