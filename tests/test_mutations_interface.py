"""A child must still define what the code outside its EVOLVE-BLOCK calls
(evolve.mutations.interface): the 0.5B often rewrote FunSearch/EoH harnesses into the block and
dropped the evolved function, and every such child failed every test with a NameError."""

from __future__ import annotations

from pathlib import Path

from evolve.mutations import mutate
from evolve.mutations.interface import dropped_names, required_names
from evolve.mutations.scaffold import AnswerCheck, Scaffold

ROOT = Path(__file__).resolve().parent.parent
TSP = (ROOT / "problems/discovery/tsp_construction/initial_program.py").read_text()

HARNESS_IN_BLOCK = '''# EVOLVE-BLOCK-START
def tour(instance: dict) -> list[int]:
    pts = np.array(instance["points"], dtype=float)
    return list(range(len(pts)))
# EVOLVE-BLOCK-END'''

BETTER = '''# EVOLVE-BLOCK-START
def select_next_node(current_node, destination_node, unvisited_nodes, distance_matrix):
    d = distance_matrix[current_node][unvisited_nodes] + 0.1 * distance_matrix[destination_node][unvisited_nodes]
    return int(unvisited_nodes[np.argmin(d)])
# EVOLVE-BLOCK-END'''


def test_the_function_the_harness_calls_is_required():
    assert required_names(TSP) == {"select_next_node"}
    for name in ("online_bin_packing", "circle_packing_26", "autocorrelation_first"):
        code = (ROOT / f"problems/discovery/{name}/initial_program.py").read_text()
        assert len(required_names(code)) == 1, name


def test_programs_editable_as_a_whole_or_unparsable_require_nothing():
    assert required_names("def f(x):\n    return x\n") == frozenset()
    assert required_names("# EVOLVE-BLOCK-START\ndef f(:\n# EVOLVE-BLOCK-END\nf(1)\n") == frozenset()
    # a name the fixed code defines itself is not required of the block
    both = "# EVOLVE-BLOCK-START\ndef g():\n    return 1\n# EVOLVE-BLOCK-END\ndef g():\n    return 2\nprint(g())\n"
    assert required_names(both) == frozenset()


def test_a_rewrite_that_drops_it_is_rejected_with_the_name_and_others_are_kept():
    bad = mutate(TSP, "### Answer 1\n```python\n" + HARNESS_IN_BLOCK + "\n```\n", 1)
    assert not bad.children
    assert bad.rejected[0].kind == "inapplicable" and "select_next_node" in bad.rejected[0].reason
    good = mutate(TSP, "### Answer 1\n```python\n" + BETTER + "\n```\n", 1)
    assert len(good.children) == 1 and "0.1 * distance_matrix" in good.children[0].code
    # assignments, imports and definitions under a top-level if all count as defining it
    for body in ("select_next_node = lambda c, d, u, m: int(u[0])",
                 "from heapq import nsmallest as select_next_node",
                 "if True:\n    def select_next_node(c, d, u, m):\n        return int(u[0])"):
        child = TSP.replace(TSP[TSP.index("def select_next_node"):TSP.index("# EVOLVE-BLOCK-END")], body + "\n")
        assert dropped_names(TSP, child) == [], body


def test_a_child_too_long_to_parse_is_left_to_the_length_rule():
    from evolve.mutations.apply import syntax_error
    from evolve.mutations.parse import MAX_CHARS

    huge = "x = 1\n#" + "#" * MAX_CHARS  # drops select_next_node, but is never parsed here
    assert dropped_names(TSP, huge) == []
    assert syntax_error(huge) == f"program longer than {MAX_CHARS} chars"


def test_a_scaffolded_answer_that_drops_it_is_unusable_so_it_is_sampled_again():
    scaffold = Scaffold(openings=["### Answer 1\n```python\n# EVOLVE-BLOCK-START\n"], resample=2)
    check = AnswerCheck(TSP, scaffold)
    assert not check.accept(0, HARNESS_IN_BLOCK.split("\n", 1)[1] + "\n```")
    assert check.accept(0, BETTER.split("\n", 1)[1] + "\n```")
