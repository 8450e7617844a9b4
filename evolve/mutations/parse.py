"""Parse a completion into its numbered answers without ever raising.

Line-based scanning with anchored per-line regexes keeps the cost linear, so 1 MB of garbage
is handled like any other malformed output.  Small models drift from the requested layout, so
the parser tolerates: other heading styles (`Answer 2:`, `**Answer 2**`, `## Solution 2`),
a bare fenced block (or several) without headings, a missing closing fence when the code
parses, unfenced code that parses, and stray prose.  It never invents an answer: every answer
returned is text the model wrote, and each slot without one gets an issue with a reason.
"""

from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass, field

from evolve.mutations.models import Answer, AnswerIssue, ParsedCompletion, SearchReplace
from evolve.mutations.fences import FENCE

MAX_CHARS = 400_000  # a 1024-token completion is ~4 kB; beyond this is garbage by definition
_WORDS = r"answer|solution|option|version|approach|variant|attempt|edit"
_HEADER = re.compile(
    rf"^[ \t]*(?P<hash>#{{1,6}})?[ \t]*(?P<bold>\*\*|__)?[ \t]*(?:{_WORDS})[ \t]*#?[ \t]*"
    rf"(?P<num>\d{{1,3}})(?![\d.]\d)(?P<rest>.*)$",
    re.IGNORECASE,
)
_SEARCH = re.compile(r"^[ \t]*<{5,9}[ \t]*SEARCH[ \t]*$")
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$")
_REPLACE = re.compile(r"^[ \t]*>{5,9}[ \t]*REPLACE[ \t]*$")
_CODE_LANGS = {"", "python", "py", "python3", "py3"}
_CODEY = re.compile(r"^\s*(def |class |return\b|import |from |for |while |if |# EVOLVE-BLOCK)", re.M)


_AST_LOCK = threading.Lock()

PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)
"""What `parse_python` raises on text that is not a program (deep nesting, NUL bytes, huge input)."""


def parse_python(code: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, one at a time per process.  CPython 3.11's AST constructor keeps its
    recursion depth in interpreter-wide state, so two threads parsing at once can fail with
    "SystemError: AST constructor recursion depth mismatch" (it killed a search_efficiency run:
    three cells' generation threads parse answers concurrently; sandbox/image.py met it too)."""
    with _AST_LOCK:
        return ast.parse(code, filename)


Parsed = ast.Module | Exception
"""What `try_parse` returns: the tree, or the PARSE_ERRORS exception parsing raised."""


def try_parse(code: str) -> Parsed:
    """`parse_python` that returns its error instead of raising, so apply_answer parses a child
    once and hands the result to every check of it (the checks parse it themselves when not given)."""
    try:
        return parse_python(code)
    except PARSE_ERRORS as e:
        return e


def parses(code: str) -> bool:
    """True when `code` is valid Python; never raises (deep nesting, NUL bytes, huge input)."""
    if len(code) > MAX_CHARS:
        return False
    try:
        parse_python(code)
    except PARSE_ERRORS:
        return False
    return True


def _header(line: str, in_fence: bool) -> int | None:
    """The answer number if `line` is an answer heading, else None."""
    if len(line) > 200:
        return None
    m = _HEADER.match(line)
    if not m:
        return None
    rest = m.group("rest").strip().strip("*_").strip()
    marked = bool(m.group("hash")) or bool(m.group("bold"))
    if in_fence and not (m.group("bold") or len(m.group("hash") or "") >= 2):
        return None  # a `# answer 2` comment inside code is code
    if not marked and rest and rest[0] not in ":.)-":
        return None  # prose such as "Answer 1 is faster because ..."
    return int(m.group("num"))


@dataclass
class _Block:
    lang: str
    lines: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class _Section:
    label: int | None
    lines: list[str] = field(default_factory=list)  # raw lines (header excluded)
    blocks: list[_Block] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # lines outside fences
    at_end: bool = False  # last section of the completion (truncation applies here)


def _split(text: str) -> tuple[list[_Section], bool]:
    """Sections by answer heading (preamble = label None); fenced blocks tracked per section."""
    sections = [_Section(label=None)]
    block: _Block | None = None
    saw_header = False
    for line in text.split("\n"):
        num = _header(line, block is not None)
        if num is not None:
            saw_header = True
            block = None  # an unclosed fence ends at the next heading
            sections.append(_Section(label=num))
            continue
        sec = sections[-1]
        sec.lines.append(line)
        f = FENCE.match(line)
        if f:
            lang = f.group("lang").lower()
            if block is not None and not lang:
                block.closed = True
                block = None
            else:  # an opening fence (an opening inside an open block means the last was unclosed)
                block = _Block(lang=lang)
                sec.blocks.append(block)
            continue
        (block.lines if block is not None else sec.prose).append(line)
    sections[-1].at_end = True
    return sections, saw_header


def _diff_blocks(lines: list[str]) -> tuple[list[SearchReplace], list[str]]:
    """SEARCH/REPLACE blocks of a section, and a reason per malformed block."""
    edits: list[SearchReplace] = []
    errors: list[str] = []
    state, search, replace = "idle", [], []
    for line in lines:
        if _SEARCH.match(line):
            if state == "search":
                errors.append("SEARCH block without ======= divider")
            elif state == "replace":
                errors.append("block without >>>>>>> REPLACE before the next SEARCH")
            state, search, replace = "search", [], []
        elif _DIVIDER.match(line) and state == "search":
            state = "replace"
        elif _REPLACE.match(line):
            if state == "replace":
                _emit(search, replace, edits, errors)
            elif state == "search":
                errors.append(">>>>>>> REPLACE before ======= divider")
            else:
                errors.append(">>>>>>> REPLACE without <<<<<<< SEARCH")
            state = "idle"
        elif FENCE.match(line) and state != "idle":
            continue  # fences wrapped around or inside blocks carry no code
        elif state == "search":
            search.append(line)
        elif state == "replace":
            replace.append(line)
    if state == "search":
        errors.append("truncated: SEARCH block never reached the ======= divider")
    elif state == "replace":
        errors.append("truncated: block missing >>>>>>> REPLACE")
    return edits, errors


def _emit(search: list[str], replace: list[str], edits: list, errors: list) -> None:
    s = "\n".join(search).strip("\n")
    if not s.strip():
        errors.append("empty SEARCH text")
        return
    edits.append(SearchReplace(search=s, replace="\n".join(replace).strip("\n")))


def _rewrite(sec: _Section) -> tuple[str | None, list[str], str | None]:
    """(code, notes, error) for a section without diff markers."""
    notes: list[str] = []
    blocks = [b for b in sec.blocks if b.lang in _CODE_LANGS and "".join(b.lines).strip()]
    if not blocks:
        blocks = [b for b in sec.blocks if "".join(b.lines).strip()]
        if blocks:
            notes.append(f"code block labelled {blocks[0].lang!r}")
    if blocks:
        best = max(blocks, key=lambda b: sum(len(x) for x in b.lines))
        if len(blocks) > 1:
            notes.append(f"{len(blocks)} code blocks; took the longest")
        code = "\n".join(best.lines).strip("\n")
        if not best.closed:
            if sec.at_end and not parses(code):
                return None, notes, "truncated: code block never closed and does not parse"
            notes.append("closing fence missing")
        return code + "\n", notes, None
    prose = "\n".join(sec.prose).strip("\n")
    if not prose.strip():
        return None, notes, None
    if _CODEY.search(prose) and parses(prose):
        return prose + "\n", notes + ["no code fence"], None
    return None, notes, "no code block found"


_Scope = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _unparse_without_docstrings(tree: ast.Module) -> str:
    """`ast.unparse` of `tree` minus its docstrings; the tree is restored after, since
    apply_answer shares it with the other checks of a child."""
    stripped: list[tuple[_Scope, list[ast.stmt]]] = []
    for node in ast.walk(tree):
        if isinstance(node, _Scope):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                stripped.append((node, body))
                node.body = body[1:] or [ast.Pass()]
    try:
        return ast.unparse(tree)
    finally:
        for node, body in stripped:
            node.body = body


def normalize_code(code: str, parsed: Parsed | None = None) -> str:
    """Behaviour-preserving normal form for duplicate detection (`parsed`: `try_parse(code)`
    when the caller has it).

    Parseable code is compared by `ast.unparse` with docstrings removed (formatting, comments
    and docstrings vanish: a small model asked for a different answer often only rewords the
    docstring); anything else line by line without comment-only lines, blank lines and trailing
    spaces.
    """
    if len(code) <= MAX_CHARS:
        tree = try_parse(code) if parsed is None else parsed
        if isinstance(tree, ast.Module):
            try:
                return _unparse_without_docstrings(tree)
            except PARSE_ERRORS:  # unparse recurses: a long operator chain can exhaust the stack
                pass
    out = []
    for line in code.split("\n"):
        s = line.rstrip()
        if s.strip() and not s.lstrip().startswith("#"):
            out.append(s)
    return "\n".join(out)


def _key(a: Answer) -> str:
    if a.kind == "rewrite":
        return "R\0" + normalize_code(a.code or "")
    return "D\0" + "\0".join(normalize_code(e.search) + "\1" + normalize_code(e.replace) for e in a.edits)


def _candidates(sections: list[_Section], saw_header: bool, m: int | None) -> list[_Section]:
    """Answer sections; without headings, each fenced code block is one answer (up to m)."""
    if saw_header:
        return sections[1:]
    only = sections[0]
    if (m or 1) > 1 and len(only.blocks) > 1 and not any(_SEARCH.match(x) for x in only.lines):
        out = []
        for i, b in enumerate(only.blocks):
            out.append(_Section(label=None, lines=[], blocks=[b], at_end=i == len(only.blocks) - 1))
        return out
    return [only]


def parse_answers(text: str, m: int | None = None) -> ParsedCompletion:
    """Find the answers in `text`. `m` = number requested (None: accept any number)."""
    issues: list[AnswerIssue] = []
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > MAX_CHARS:
        issues.append(AnswerIssue(slot=None, kind="malformed", reason=f"completion longer than {MAX_CHARS} chars; tail ignored"))
        text = text[:MAX_CHARS]
    sections, saw_header = _split(text.replace("\r\n", "\n"))
    cands = _candidates(sections, saw_header, m)
    limit = m if m is not None else len(cands)
    # slots: the model's own number when valid and free, else the next free slot in order
    used: set[int] = set()
    slots: list[int | None] = []
    for c in cands:
        ok = c.label is not None and 1 <= c.label <= limit and c.label not in used
        slots.append(c.label if ok else None)
        if ok:
            used.add(c.label)
    free = iter(s for s in range(1, limit + 1) if s not in used)
    answers: list[Answer] = []
    seen: dict[str, int] = {}
    taken: set[int] = set()
    for c, slot in zip(cands, slots):
        notes: list[str] = []
        if slot is None:
            slot = next(free, None)
            if slot is None:
                issues.append(AnswerIssue(slot=None, kind="extra", reason=f"answer beyond the {limit} requested ignored"))
                continue
            if c.label is not None:
                notes.append(f"renumbered from {c.label}")
        taken.add(slot)
        if not saw_header:
            notes.append("no answer heading")
        if any(_SEARCH.match(x) for x in c.lines) or any(_SEARCH.match(x) for b in c.blocks for x in b.lines):
            raw = c.lines or [x for b in c.blocks for x in b.lines]
            edits, errors = _diff_blocks(raw)
            if not edits:
                issues.append(AnswerIssue(slot=slot, kind="malformed", reason="; ".join(errors) or "no diff block"))
                continue
            notes += [f"dropped block: {e}" for e in errors]
            ans = Answer(slot=slot, label=c.label, kind="diff", edits=edits, notes=notes)
        else:
            code, more, err = _rewrite(c)
            if code is None:
                kind = "malformed" if err else "empty"
                issues.append(AnswerIssue(slot=slot, kind=kind, reason=err or "answer heading with no code"))
                continue
            ans = Answer(slot=slot, label=c.label, kind="rewrite", code=code, notes=notes + more)
        key = _key(ans)
        if key in seen:
            issues.append(AnswerIssue(slot=slot, kind="duplicate", reason=f"same as answer {seen[key]}"))
            continue
        seen[key] = slot
        answers.append(ans)
    if m is not None:
        for s in range(1, m + 1):
            if s not in taken:
                issues.append(AnswerIssue(slot=s, kind="missing", reason=f"answer {s} not found"))
    issues.sort(key=lambda i: (i.slot is None, i.slot or 0))
    return ParsedCompletion(answers=sorted(answers, key=lambda a: a.slot), issues=issues, expected=m)
