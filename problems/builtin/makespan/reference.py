import heapq


def schedule(instance: dict) -> list[int]:
    """LPT, then moves and swaps off the most loaded machine until none helps."""
    m, times = instance["machines"], instance["times"]
    n = len(times)
    heap = [(0, k) for k in range(m)]
    assign = [0] * n
    for j in sorted(range(n), key=lambda j: -times[j]):
        load, k = heapq.heappop(heap)
        assign[j] = k
        heapq.heappush(heap, (load + times[j], k))
    loads = [0] * m
    for j, k in enumerate(assign):
        loads[k] += times[j]
    jobs = [[] for _ in range(m)]
    for j, k in enumerate(assign):
        jobs[k].append(j)
    for _ in range(20000):
        top = max(range(m), key=loads.__getitem__)
        cmax = loads[top]
        best = None  # (new max of the two machines, move)
        for j in jobs[top]:
            tj = times[j]
            for k in range(m):
                if k == top:
                    continue
                if loads[k] + tj < cmax:
                    cand = max(cmax - tj, loads[k] + tj)
                    if best is None or cand < best[0]:
                        best = (cand, j, k, None)
                for i in jobs[k]:
                    d = tj - times[i]
                    if 0 < d and loads[k] + d < cmax:
                        cand = max(cmax - d, loads[k] + d)
                        if best is None or cand < best[0]:
                            best = (cand, j, k, i)
        if best is None:
            break
        _, j, k, i = best
        jobs[top].remove(j)
        jobs[k].append(j)
        loads[top] -= times[j]
        loads[k] += times[j]
        if i is not None:
            jobs[k].remove(i)
            jobs[top].append(i)
            loads[k] -= times[i]
            loads[top] += times[i]
    for k in range(m):
        for j in jobs[k]:
            assign[j] = k
    return assign
