"""TSP construction heuristic (the EoH / FunSearch formulation): starting at node 0, the fixed
harness repeatedly asks select_next_node which unvisited node to go to next, then returns home."""
import numpy as np


# EVOLVE-BLOCK-START
def select_next_node(current_node: int, destination_node: int, unvisited_nodes: np.ndarray,
                     distance_matrix: np.ndarray) -> int:
    """The next node to visit (one of unvisited_nodes). Nearest neighbour."""
    return int(unvisited_nodes[np.argmin(distance_matrix[current_node][unvisited_nodes])])
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
