"""The multi-answer parser and the edit applier: tolerant of small-model output, never crashing."""

from __future__ import annotations

import random

import pytest

from evolve.mutations import (
    Answer,
    SearchReplace,
    apply_answer,
    format_instructions,
    mutate,
    normalize_code,
    parse_answers,
    render_answers,
)

PARENT = """import math

# EVOLVE-BLOCK-START
def f(x):
    if x > 0:
        return x + 1
    return 0
# EVOLVE-BLOCK-END

def helper():
    return 42
"""

TWO_REGIONS = """# EVOLVE-BLOCK-START
a = 1
# EVOLVE-BLOCK-END
fixed = 2
# EVOLVE-BLOCK-START
b = 3
# EVOLVE-BLOCK-END
"""


def diff(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE"


def fenced(body: str) -> str:
    return f"```python\n{body}\n```"


# ---------------------------------------------------------------- parsing


def test_canonical_format_round_trips():
    bodies = ["def f(x):\n    return 1", "def f(x):\n    return 2", "def f(x):\n    return 3"]
    p = parse_answers("Some reasoning first.\n\n" + render_answers(bodies), 3)
    assert [a.slot for a in p.answers] == [1, 2, 3]
    assert [a.code for a in p.answers] == [b + "\n" for b in bodies]
    assert p.issues == [] and all(a.notes == [] for a in p.answers)


def test_instructions_show_the_layout_the_parser_reads():
    text = format_instructions(3, "either")
    assert "### Answer 1" in text and "### Answer 3" in text and "<<<<<<< SEARCH" in text
    filled = text.replace("...", "x = 1", 1).replace("...", "x = 2", 1).replace("...", "x = 3", 1)
    assert len(parse_answers(filled, 3).answers) == 3
    with pytest.raises(ValueError):
        format_instructions(0)


@pytest.mark.parametrize(
    "header",
    ["### Answer 2", "## Answer 2: use a set", "**Answer 2**", "Answer 2:", "Answer #2", "### Solution 2",
     "#### answer 2.", "**Answer 2:** faster"],
)
def test_header_variants(header):
    text = f"### Answer 1\n{fenced('x = 1')}\n\n{header}\n{fenced('x = 2')}\n"
    p = parse_answers(text, 2)
    assert [a.code for a in p.answers] == ["x = 1\n", "x = 2\n"], header


def test_prose_mentioning_answer_is_not_a_heading():
    text = f"### Answer 1\nAnswer 1 is faster because it caches.\n{fenced('x = 1')}\n"
    p = parse_answers(text, 1)
    assert p.answers[0].code == "x = 1\n" and p.issues == []


def test_python_comment_inside_code_is_not_a_heading():
    code = "# answer 2 would be slower\nx = 1"
    p = parse_answers(f"### Answer 1\n{fenced(code)}\n", 2)
    assert p.answers[0].code == code + "\n"
    assert [(i.slot, i.kind) for i in p.issues] == [(2, "missing")]


def test_missing_and_extra_answers_are_reported_never_invented():
    text = render_answers(["x = 1", "x = 2", "x = 3", "x = 4"])
    p = parse_answers(text, 3)
    assert [a.code for a in p.answers] == ["x = 1\n", "x = 2\n", "x = 3\n"]
    assert [i.kind for i in p.issues] == ["extra"]
    p = parse_answers(render_answers(["x = 1"]), 3)
    assert len(p.answers) == 1
    assert [(i.slot, i.kind) for i in p.issues] == [(2, "missing"), (3, "missing")]


def test_duplicates_are_dropped_modulo_whitespace_and_comments():
    text = render_answers(["x = 1", "x = 2", "# same thing\nx = 1   \n\n"])
    p = parse_answers(text, 3)
    assert [a.slot for a in p.answers] == [1, 2]
    assert [(i.slot, i.kind, i.reason) for i in p.issues] == [(3, "duplicate", "same as answer 1")]


def test_bare_fenced_block_is_a_full_rewrite():
    p = parse_answers("Here you go:\n" + fenced("def f(x):\n    return 7") + "\nHope it helps", 1)
    assert p.answers[0].kind == "rewrite" and p.answers[0].code == "def f(x):\n    return 7\n"
    assert "no answer heading" in p.answers[0].notes


def test_several_bare_blocks_become_several_answers():
    text = "\n".join(fenced(f"x = {k}") for k in range(1, 4))
    p = parse_answers(text, 3)
    assert [a.code for a in p.answers] == ["x = 1\n", "x = 2\n", "x = 3\n"]


def test_missing_closing_fence_at_end_accepted_when_code_parses():
    p = parse_answers("### Answer 1\n```python\ndef f(x):\n    return 3\n", 1)
    assert p.answers[0].code == "def f(x):\n    return 3\n"
    assert "closing fence missing" in p.answers[0].notes


def test_truncated_code_at_end_is_rejected_with_reason():
    text = render_answers(["x = 1"]) + "\n### Answer 2\n```python\ndef f(x):\n    return (x +"
    p = parse_answers(text, 2)
    assert [a.slot for a in p.answers] == [1]
    assert p.issues[0].slot == 2 and p.issues[0].kind == "malformed"
    assert "truncated" in p.issues[0].reason


def test_unclosed_fence_ended_by_next_heading():
    text = "### Answer 1\n```python\nx = 1\n\n### Answer 2\n```python\nx = 2\n```\n"
    p = parse_answers(text, 2)
    assert [a.code for a in p.answers] == ["x = 1\n", "x = 2\n"]
    assert "closing fence missing" in p.answers[0].notes


def test_unfenced_code_that_parses_is_accepted():
    p = parse_answers("### Answer 1\ndef f(x):\n    return x\n", 1)
    assert p.answers[0].code == "def f(x):\n    return x\n" and "no code fence" in p.answers[0].notes


def test_heading_without_code():
    p = parse_answers("### Answer 1\nI am not sure what to do here.\n### Answer 2\n", 2)
    assert p.answers == []
    assert [(i.slot, i.kind) for i in p.issues] == [(1, "malformed"), (2, "empty")]


def test_renumbering_keeps_answers_when_model_numbers_wrongly():
    text = f"### Answer 1\n{fenced('x = 1')}\n### Answer 1\n{fenced('x = 2')}\n### Answer 7\n{fenced('x = 3')}"
    p = parse_answers(text, 3)
    assert [(a.slot, a.label) for a in p.answers] == [(1, 1), (2, 1), (3, 7)]
    assert "renumbered from 7" in p.answers[2].notes


def test_diff_blocks_parsed_inside_or_outside_fences():
    inside = "### Answer 1\n" + fenced(diff("a = 1", "a = 2") + "\n" + diff("b = 3", "b = 4"))
    outside = "### Answer 1\n" + diff("a = 1", "a = 2")
    for text in (inside, outside):
        a = parse_answers(text, 1).answers[0]
        assert a.kind == "diff" and a.edits[0] == SearchReplace(search="a = 1", replace="a = 2")
    assert len(parse_answers(inside, 1).answers[0].edits) == 2


@pytest.mark.parametrize(
    "body,reason",
    [
        ("<<<<<<< SEARCH\na = 1\n>>>>>>> REPLACE", ">>>>>>> REPLACE before ======= divider"),
        ("<<<<<<< SEARCH\na = 1\n=======\na = 2", "truncated: block missing >>>>>>> REPLACE"),
        ("<<<<<<< SEARCH\na = 1\n", "truncated: SEARCH block never reached the ======= divider"),
        ("<<<<<<< SEARCH\n=======\na = 2\n>>>>>>> REPLACE", "empty SEARCH text"),
    ],
)
def test_malformed_diff_blocks_have_reasons(body, reason):
    p = parse_answers("### Answer 1\n" + body, 1)
    assert p.answers == [] and p.issues[0].kind == "malformed" and reason in p.issues[0].reason


def test_good_diff_block_survives_a_bad_sibling():
    text = "### Answer 1\n" + diff("a = 1", "a = 2") + "\n<<<<<<< SEARCH\nb = 1\n"
    a = parse_answers(text, 1).answers[0]
    assert len(a.edits) == 1 and any("truncated" in n for n in a.notes)


@pytest.mark.parametrize(
    "text",
    [
        "", "   \n\n", "no code at all", "```", "```python", "<<<<<<< SEARCH", "=======\n>>>>>>> REPLACE",
        "### Answer 1\n```python\n" + "(" * 5000, "### Answer 99999999", "\x00\x01\x02 ### Answer 1\n```\n\x00```",
        "#" * 100_000, "`" * 100_000, "### Answer 1\n" * 20_000, "(" * 1_000_000,
    ],
)
def test_garbage_never_crashes(text):
    out = mutate(PARENT, text, 3)
    assert len(out.children) + len({i.slot for i in out.rejected if i.slot}) <= 3
    assert all(i.reason for i in out.rejected)


def test_one_megabyte_of_random_garbage():
    rng = random.Random(0)
    alphabet = "abc (){}[]:=#`<>\n\t\"'\\ ### Answer 1 SEARCH REPLACE ======= def return"
    text = "".join(rng.choice(alphabet) for _ in range(1_000_000))
    out = mutate(PARENT, text, 3)
    assert out.rejected and all(i.reason for i in out.rejected)


# ---------------------------------------------------------------- applying


def rewrite(code: str) -> Answer:
    return Answer(slot=1, kind="rewrite", code=code)


def edits(*pairs: tuple[str, str]) -> Answer:
    return Answer(slot=1, kind="diff", edits=[SearchReplace(search=s, replace=r) for s, r in pairs])


def test_rewrite_replaces_only_the_region_body():
    res = apply_answer(PARENT, rewrite("def f(x):\n    return -x\n"))
    assert res.ok and res.syntax_error is None
    assert res.code == PARENT.replace("    if x > 0:\n        return x + 1\n    return 0\n", "    return -x\n")


def test_rewrite_with_markers_and_unchanged_outside_is_accepted():
    full = PARENT.replace("return 0", "return -1")
    res = apply_answer(PARENT, rewrite(full))
    assert res.ok and res.code == full


def test_rewrite_with_markers_and_omitted_outside_is_accepted():
    res = apply_answer(PARENT, rewrite("# EVOLVE-BLOCK-START\ndef f(x):\n    return 5\n# EVOLVE-BLOCK-END\n"))
    assert res.ok and "import math" in res.code and "return 42" in res.code and "return 5" in res.code


def test_rewrite_changing_outside_code_keeps_the_parents_outside():
    bad = PARENT.replace("return 42", "return 43").replace("return 0", "return 1") + "\nprint(f(1))\n"
    res = apply_answer(PARENT, rewrite(bad))
    assert res.ok and res.code == PARENT.replace("return 0", "return 1")
    assert any("outside the EVOLVE-BLOCK" in n for n in res.notes)
    res = apply_answer(PARENT, rewrite(bad.replace("return 1", "return 0")))
    assert not res.ok and "unchanged" in res.reason  # only outside edits: nothing usable


def test_markerless_rewrite_repeating_outside_code_is_deduplicated():
    res = apply_answer(PARENT, rewrite("import math\n\ndef f(x):\n    return 9\n"))
    assert res.ok and res.code.count("import math") == 1


def test_rewrite_with_only_start_marker_tolerated():
    res = apply_answer(PARENT, rewrite("# EVOLVE-BLOCK-START\ndef f(x):\n    return 8\n"))
    assert res.ok and "return 8" in res.code and res.notes


def test_rewrite_of_multi_region_program_needs_markers():
    assert not apply_answer(TWO_REGIONS, rewrite("a = 5")).ok
    new = TWO_REGIONS.replace("a = 1", "a = 5").replace("b = 3", "b = 6")
    res = apply_answer(TWO_REGIONS, rewrite(new))
    assert res.ok and res.code == new


def test_program_without_markers_is_editable_whole():
    res = apply_answer("x = 1\n", rewrite("x = 2"))
    assert res.ok and res.code == "x = 2\n"
    res = apply_answer("x = 1\ny = 2\n", edits(("y = 2", "y = 3")))
    assert res.ok and res.code == "x = 1\ny = 3\n"


def test_diff_exact_whitespace_and_indentation_levels():
    res = apply_answer(PARENT, edits(("        return x + 1", "        return x + 2")))
    assert res.ok and res.blocks[0].status == "exact" and "return x + 2" in res.code
    res = apply_answer(PARENT, edits(("        return x + 1   ", "        return x + 2")))
    assert res.blocks[0].status == "whitespace"
    res = apply_answer(PARENT, edits(("if x > 0:\n    return x + 1", "if x > 1:\n    return x * 2")))
    assert res.blocks[0].status == "indentation"
    assert "    if x > 1:\n        return x * 2\n" in res.code and res.syntax_error is None


def test_diff_outside_region_is_rejected():
    res = apply_answer(PARENT, edits(("    return 42", "    return 0")))
    assert not res.ok and "outside the EVOLVE-BLOCK" in res.blocks[0].reason


def test_diff_touching_markers_is_rejected_but_quoting_them_is_fine():
    res = apply_answer(PARENT, edits(("# EVOLVE-BLOCK-END", "")))
    assert not res.ok and "marker" in res.blocks[0].reason
    quoted = ("# EVOLVE-BLOCK-START\ndef f(x):", "# EVOLVE-BLOCK-START\ndef f(x, y=0):")
    res = apply_answer(PARENT, edits(quoted))
    assert res.ok and "def f(x, y=0):" in res.code


def test_failed_blocks_recorded_and_others_applied():
    res = apply_answer(PARENT, edits(("nothing like this", "x"), ("    return 0", "    return -1")))
    assert res.ok and [b.status for b in res.blocks] == ["failed", "exact"]
    assert "not found" in res.blocks[0].reason
    res = apply_answer(PARENT, edits(("nothing like this", "x")))
    assert not res.ok and "no SEARCH/REPLACE block applied" in res.reason


def test_unchanged_child_and_syntax_error_are_flagged():
    res = apply_answer(PARENT, edits(("    return 0", "    return 0  # same")))
    assert not res.ok and res.unchanged and "unchanged" in res.reason
    res = apply_answer(PARENT, edits(("    return 0", "    return (")))
    assert res.ok and res.syntax_error and not res.unchanged
    # only "unchanged" is flagged so: other failures are not (mutate() and scaffold read the flag)
    res = apply_answer(PARENT, edits(("nothing like this", "x")))
    assert not res.ok and not res.unchanged


def test_unbalanced_parent_markers_give_a_reason():
    res = apply_answer("# EVOLVE-BLOCK-START\nx = 1\n", rewrite("x = 2"))
    assert not res.ok and "never closed" in res.reason


def test_mutate_drops_children_equal_after_application():
    text = render_answers(["def f(x):\n    return 0", diff("    if x > 0:\n        return x + 1\n    return 0", "    return 0"),
                           "def f(x):\n    return 1"])
    out = mutate(PARENT, text, 3)
    assert [c.slot for c in out.children] == [1, 3]
    assert [(r.slot, r.kind) for r in out.rejected] == [(2, "duplicate")]


def test_mutate_reports_each_slot_once():
    text = render_answers(["def f(x):\n    return 1", diff("zzz", "y"), "x = ("])
    out = mutate(PARENT, text, 4)
    assert [c.slot for c in out.children] == [1, 3]
    assert out.children[1].syntax_error
    assert [(r.slot, r.kind) for r in out.rejected] == [(2, "inapplicable"), (4, "missing")]


def test_normalize_code_ignores_comments_and_blank_lines():
    assert normalize_code("x = 1  # c\n\n# only comment\ny = 2\n") == normalize_code("x = 1  # c\ny = 2")


# ---------------------------------------------------------------- real Qwen2.5-Coder-0.5B outputs

TOY = "# EVOLVE-BLOCK-START\ndef sum_even(xs):\n    return 0\n# EVOLVE-BLOCK-END\n"
QWEN_REWRITE = '''### Answer 1: Correct Implementation

```python
# EVOLVE-BLOCK-START
def sum_even(xs):
    return sum(i for i in xs if i % 2 == 0)
# EVOLVE-BLOCK-END
```

### Answer 2: Adding a Check Function

```python
# EVOLVE-BLOCK-START
def sum_even(xs):
    return sum(i for i in xs if i % 2 == 0)
# EVOLVE-BLOCK-END

def check():
    assert sum_even([1, 2, 3, 4, 5]) == 6, "Test case 1 failed"
```

### Answer 3: Using a Generator

```python
# EVOLVE-BLOCK-START
def sum_even(xs):
    total = 0
    for x in xs:
        if x % 2 == 0:
            total += x
    return total
# EVOLVE-BLOCK-END
```

### Explanation:
- **Answer 1**: Correctly contains a'''


def test_qwen_rewrite_output_with_harness_and_truncated_explanation():
    out = mutate(TOY, QWEN_REWRITE, 3)
    assert [c.slot for c in out.children] == [1, 3]
    assert [(r.slot, r.kind) for r in out.rejected] == [(2, "duplicate")]  # harness ignored -> same child
    assert "def check" not in out.children[0].code and out.children[1].syntax_error is None


def test_diff_prompt_answered_with_rewrites_is_still_usable():
    text = "### Answer 1: Improve the current program\n```python\nfrom operator import add\n\n" \
           "def sum_even(xs):\n    return sum(x for x in xs if x % 2 == 0)\n```\n"
    out = mutate(TOY, text, 3)
    assert len(out.children) == 1 and out.children[0].kind == "rewrite"
    assert [r.kind for r in out.rejected] == ["missing", "missing"]


def test_closed_code_blocks_and_their_end():
    from evolve.mutations.fences import closed_code_blocks, end_of_blocks

    text = "### Answer 1\n```python\nx = 1\n```\nSome prose\n### Answer 2\n```\ny = '```'\n  ```\nmore"
    assert closed_code_blocks(text) == 2 and closed_code_blocks(text[: text.index("  ```")]) == 1
    assert text[: end_of_blocks(text, 1)].endswith("x = 1\n```")
    assert text[: end_of_blocks(text, 2)].endswith("y = '```'\n  ```")
    assert end_of_blocks(text, 3) is None and end_of_blocks("```python\nx", 1) is None
    assert parse_answers(text[: end_of_blocks(text, 2)], 2).answers[1].code.strip() == "y = '```'"


def test_a_reworded_docstring_is_the_same_program():
    from evolve.mutations import normalize_code

    a = 'def f(x):\n    """Double x."""\n    return 2 * x\n'
    b = 'def f(x):\n    """Alternative: twice x, a different approach."""\n    return 2 * x  # same\n'
    assert normalize_code(a) == normalize_code(b) == normalize_code("def f(x):\n    return 2*x\n")
    assert normalize_code('def g():\n    """only a docstring"""\n') == "def g():\n    pass"
    assert normalize_code('"""module doc"""\nx = "not a docstring"\n') == "x = 'not a docstring'"


def test_apply_answer_parses_the_child_once_for_all_its_checks(monkeypatch):
    """normalize_code, dropped_names, add_missing_imports and syntax_error share one parse of the
    child (each parsed it again before: 4 parses); an added import changes it: one more parse.
    normalize_code leaves the shared tree as it found it."""
    import ast

    parent = PARENT + "\nRESULT = f(1)\n"  # the fixed code calls f: dropped_names checks the child
    real, sources = ast.parse, []
    monkeypatch.setattr(ast, "parse", lambda src, *a, **k: sources.append(src) or real(src, *a, **k))
    for body, want in (("return x + 2", 1), ("return random.random()", 2), ("return = 2", 1)):
        sources.clear()
        res = apply_answer(parent, Answer(slot=1, kind="rewrite", code=f"def f(x):\n    {body}\n"))
        assert res.ok and sum(src != parent for src in sources) == want, (body, res)
    assert res.syntax_error and "added the missing import of random" not in res.notes
    src = 'def f():\n    """doc"""\n    return 1\n'
    tree = real(src)
    dump = ast.dump(tree)
    assert normalize_code(src, tree) == "def f():\n    return 1" and ast.dump(tree) == dump


def test_mutate_normalises_the_parent_once_per_completion_and_a_child_once(monkeypatch):
    """mutate() parsed the parent again for every answer's unchanged check and each child once
    more for duplicate detection (4 answers: 5 parent parses, 12 of answers and children); now
    the parent's normal form is computed once per completion and a child's travels with it."""
    import ast

    real, sources = ast.parse, []
    monkeypatch.setattr(ast, "parse", lambda src, *a, **k: sources.append(src) or real(src, *a, **k))
    counts = {}
    for m in (1, 4):
        parent = PARENT + f"\nNORMALISED_{m} = f({m})\n"  # a parent no other test uses: no cache is warm
        sources.clear()
        text = "\n".join(f"### Answer {k}\n```python\ndef f(x):\n    return x + {k}\n```\n" for k in range(1, m + 1))
        out = mutate(parent, text, m)
        counts[m] = (sum(s == parent for s in sources), sum(s != parent for s in sources))
        assert len(out.children) == m
        assert all(c.normal == normalize_code(c.code) for c in out.children)
    assert counts[4][0] == counts[1][0]  # the parent: not once more per answer
    assert counts[4][1] == 4 * counts[1][1] == 8  # per answer: its code's key, then the child
