"""Missing standard-library imports: added for modules used as `module.attr` and bound nowhere,
inside the first editable region; a program's own names are never touched."""

from __future__ import annotations

from evolve.mutations.apply import mutate
from evolve.mutations.imports import add_missing_imports, missing_stdlib_imports

PARENT = "import json\n\n# EVOLVE-BLOCK-START\ndef tour(inst):\n    return list(range(3))\n# EVOLVE-BLOCK-END\n"


def test_finds_modules_used_but_never_imported():
    code = "def f(xs):\n    random.shuffle(xs)\n    return heapq.nsmallest(2, xs) + [math.pi]\n"
    assert missing_stdlib_imports(code) == ["heapq", "math", "random"]


def test_names_the_program_binds_are_not_modules():
    code = ("import random as rnd\nfrom collections import deque\n"
            "def f(math, xs):\n    heapq = make()\n    for string in xs:\n        string.upper()\n"
            "    try:\n        pass\n    except Exception as re:\n        re.args\n"
            "    return math.pi, heapq.pop(), rnd.random(), deque\n")
    assert missing_stdlib_imports(code) == []


def test_non_modules_and_unparsable_code_are_left_alone():
    assert missing_stdlib_imports("def f():\n    return numpy.zeros(3) + thing.x\n") == []
    assert missing_stdlib_imports("def f(:\n    random.random()\n") == []
    assert add_missing_imports("x = 1\n") == ("x = 1\n", [])


def test_imports_go_inside_the_first_editable_region():
    code = PARENT.replace("return list(range(3))", "return random.sample(range(3), 3)")
    fixed, added = add_missing_imports(code)
    assert added == ["random"]
    assert fixed.split("\n")[2:5] == ["# EVOLVE-BLOCK-START", "import random", "def tour(inst):"]


def test_without_markers_after_future_imports():
    fixed, added = add_missing_imports("from __future__ import annotations\ndef f():\n    return math.e\n")
    assert added == ["math"]
    assert fixed.startswith("from __future__ import annotations\nimport math\n")


def test_a_rewrite_that_forgets_its_import_yields_a_runnable_child_with_a_note():
    """Regression (builtin/tsp, 0.5B mutator): 19 of 95 children failed every test with
    NameError: name 'random' is not defined; the import the model wrote above the EVOLVE-BLOCK
    markers was dropped with the rest of the text outside them."""
    answer = ("```python\nimport random\n# EVOLVE-BLOCK-START\ndef tour(inst):\n"
              "    order = list(range(3))\n    random.shuffle(order)\n    return order\n"
              "# EVOLVE-BLOCK-END\n```")
    out = mutate(PARENT, answer, 1)
    (child,) = out.children
    assert "import random\ndef tour" in child.code and child.code.startswith("import json\n")
    assert "added the missing import of random" in child.notes
    ns: dict = {}
    exec(child.code, ns)
    assert sorted(ns["tour"]({})) == [0, 1, 2]


def test_every_parse_failure_means_no_import_is_added(monkeypatch):
    """Regression: this module caught four of the five errors parse_python raises on
    non-programs (OverflowError escaped); it now parses through parse.try_parse, which catches
    parse.PARSE_ERRORS for every check."""
    import evolve.mutations.parse as parse
    from evolve.mutations.parse import PARSE_ERRORS

    for err in PARSE_ERRORS:
        def boom(code, filename="<unknown>", _e=err):
            raise _e("not a program")
        monkeypatch.setattr(parse, "parse_python", boom)
        assert missing_stdlib_imports("def f():\n    return math.pi\n") == []
