"""Answers are parsed from several threads at once (the loop's generation thread checks
scaffolded answers while the main thread applies the last batch; benchmarks run cells in
threads), and CPython 3.11's ast.parse is not safe against that: a search_efficiency run died
with "SystemError: AST constructor recursion depth mismatch" in normalize_code.  Every parse in
evolve.mutations goes through parse_python, one at a time."""

from __future__ import annotations

import threading
import time

from evolve.mutations import parse as parse_mod
from evolve.mutations.imports import missing_stdlib_imports
from evolve.mutations.parse import normalize_code, parses


def test_a_parse_waits_while_another_thread_parses():
    done: list[str] = []
    calls = (lambda: normalize_code("x = 1"), lambda: parses("y = 2"),
             lambda: missing_stdlib_imports("z = math.pi"))
    with parse_mod._AST_LOCK:  # another thread is inside ast.parse
        threads = [threading.Thread(target=lambda f=f: done.append(repr(f()))) for f in calls]
        for t in threads:
            t.start()
        time.sleep(0.3)
        assert done == []  # every mutation-path parse waits for it
    for t in threads:
        t.join(timeout=30)
    assert len(done) == 3 and "'math'" in "".join(done)
