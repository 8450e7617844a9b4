"""Apply parsed answers to a parent program: pure functions, structured results, no raising.

Only code strictly between `# EVOLVE-BLOCK-START` and `# EVOLVE-BLOCK-END` marker lines may
change (a program without markers is editable as a whole).  SEARCH/REPLACE blocks match exactly,
then ignoring trailing whitespace, then ignoring indentation (the replacement is re-indented by
the same offset); each failed block is recorded with its reason.  Full rewrites replace the
single region's body, or every region's body when the rewrite keeps the markers; whatever a
rewrite writes outside its markers (small models append test harnesses there) is ignored with a
note, so the child's code outside the EVOLVE-BLOCK is always the parent's.
"""

from __future__ import annotations

from problems.model import EVOLVE_END, EVOLVE_START

from evolve.mutations.models import (
    AnswerIssue,
    AppliedAnswer,
    Answer,
    BlockResult,
    MutationOutcome,
    SearchReplace,
)
from evolve.mutations.imports import add_missing_imports
from evolve.mutations.interface import dropped_names
from evolve.mutations.markers import MarkerError, Region, is_marker, regions
from evolve.mutations.parse import MAX_CHARS, Parsed, normalize_code, parse_answers, try_parse

def _editable(lines: list[str]) -> list[Region]:
    r = regions(lines)
    return r if r is not None else [(0, len(lines))]


def _body(code: str) -> list[str]:
    lines = code.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def _norm(lines: list[str]) -> list[str]:
    return norm.split("\n") if (norm := normalize_code("\n".join(lines))) else []


def _strip_outside(body: list[str], before: list[str], after: list[str]) -> list[str]:
    """Drop copies of the parent's code outside the region that a marker-less rewrite repeats."""
    nb = [x for x in before if x.strip()]
    if nb and [x for x in body[: len(nb)]] == nb:
        body = body[len(nb):]
    na = [x for x in after if x.strip()]
    if na and body[-len(na):] == na:
        body = body[: -len(na)]
    return _body("\n".join(body))


def apply_rewrite(parent: str, code: str) -> tuple[str | None, str | None, list[str]]:
    """(child, reason, notes) for a full rewrite."""
    lines = parent.split("\n")
    regs = regions(lines)
    notes: list[str] = []
    new = code.split("\n")
    has_start = any(is_marker(x, EVOLVE_START) for x in new)
    has_end = any(is_marker(x, EVOLVE_END) for x in new)
    if has_start and not has_end:
        new = new[next(i for i, x in enumerate(new) if is_marker(x, EVOLVE_START)) + 1:]
        notes.append(f"{EVOLVE_END} missing in rewrite; took code after the start marker")
    elif has_end and not has_start:
        new = new[: next(i for i, x in enumerate(new) if is_marker(x, EVOLVE_END))]
        notes.append(f"{EVOLVE_START} missing in rewrite; took code before the end marker")
    elif has_start and has_end:
        try:
            theirs = regions(new) or []
        except MarkerError as e:
            return None, f"rewrite has malformed markers: {e}", notes
        ours = regs or []
        if len(theirs) != len(ours):
            return None, f"rewrite has {len(theirs)} EVOLVE-BLOCK regions, the program has {len(ours)}", notes
        # code the rewrite puts outside the markers never reaches the child: the parent's stays
        bounds_p = [0] + [x for s, e in ours for x in (s - 1, e + 1)] + [len(lines)]
        bounds_a = [0] + [x for s, e in theirs for x in (s - 1, e + 1)] + [len(new)]
        for k in range(0, len(bounds_a), 2):
            seg_a = _norm(new[bounds_a[k]: bounds_a[k + 1]])
            if seg_a and seg_a != _norm(lines[bounds_p[k]: bounds_p[k + 1]]):
                notes.append(f"ignored {len(seg_a)} changed lines outside the EVOLVE-BLOCK")
        out = list(lines)
        for (s, e), (sa, ea) in reversed(list(zip(ours, theirs))):
            out[s:e] = new[sa:ea]
        return "\n".join(out), None, notes
    if regs is None:
        body = _body("\n".join(new))
        return "\n".join(body) + "\n", None, notes
    if len(regs) > 1:
        return None, f"program has {len(regs)} EVOLVE-BLOCK regions; a rewrite must keep the markers", notes
    s, e = regs[0]
    body = _strip_outside(_body("\n".join(new)), lines[: s - 1], lines[e + 1:])
    return "\n".join(lines[:s] + body + lines[e:]), None, notes


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(lines: list[str], src: str, dst: str) -> list[str]:
    out = []
    for line in lines:
        if line.startswith(src):
            out.append(dst + line[len(src):] if line.strip() else line)
        else:
            out.append(dst + line.lstrip() if line.strip() else line)
    return out


def _find(lines: list[str], regs: list[Region], search: list[str]) -> tuple[int, str] | None:
    """First match inside a region: (line index, status) at the strictest level that matches."""
    k = len(search)
    tests = (
        ("exact", lambda a, b: a == b),
        ("whitespace", lambda a, b: a.rstrip() == b.rstrip()),
        ("indentation", lambda a, b: a.strip() == b.strip()),
    )
    for status, eq in tests:
        for s, e in regs:
            for i in range(s, e - k + 1):
                if all(eq(lines[i + j], search[j]) for j in range(k)):
                    return i, status
    return None


def apply_edit(lines: list[str], edit: SearchReplace) -> tuple[list[str] | None, str, str | None]:
    """(new lines, status, reason) for one SEARCH/REPLACE block."""
    search, replace = edit.search.split("\n"), edit.replace.split("\n") if edit.replace else []
    # tolerate blocks that quote the marker lines, as long as they keep them
    for marker, pos in ((EVOLVE_START, 0), (EVOLVE_END, -1)):
        if search and replace and is_marker(search[pos], marker) and is_marker(replace[pos], marker):
            search = search[1:] if pos == 0 else search[:-1]
            replace = replace[1:] if pos == 0 else replace[:-1]
    if any(is_marker(x, EVOLVE_START) or is_marker(x, EVOLVE_END) for x in search + replace):
        return None, "failed", "block moves or removes an EVOLVE-BLOCK marker"
    if not any(x.strip() for x in search):
        return None, "failed", "SEARCH text is empty"
    regs = _editable(lines)
    hit = _find(lines, regs, search)
    if hit is None:
        reason = "SEARCH text not found in the program"
        if _find(lines, [(0, len(lines))], search) is not None:
            reason = "SEARCH text matches only code outside the EVOLVE-BLOCK"
        first = next(x for x in search if x.strip()).strip()
        return None, "failed", f"{reason} (first line: {first[:80]!r})"
    i, status = hit
    if status == "indentation":
        src = _indent(next(x for x in search if x.strip()))
        dst = _indent(next(lines[i + j] for j, x in enumerate(search) if x.strip()))
        replace = _reindent(replace, src, dst)
    return lines[:i] + replace + lines[i + len(search):], status, None


def apply_diff(parent: str, edits: list[SearchReplace]) -> tuple[str | None, str | None, list[BlockResult]]:
    lines = parent.split("\n")
    results: list[BlockResult] = []
    for n, edit in enumerate(edits):
        new, status, reason = apply_edit(lines, edit)
        results.append(BlockResult(index=n, status=status, reason=reason))
        if new is not None:
            lines = new
    if not any(r.status != "failed" for r in results):
        reasons = "; ".join(f"block {r.index + 1}: {r.reason}" for r in results)
        return None, f"no SEARCH/REPLACE block applied ({reasons})", results
    return "\n".join(lines), None, results


def syntax_error(code: str, parsed: Parsed | None = None) -> str | None:
    """Why `code` is not a program, or None (`parsed`: `try_parse(code)` when the caller has it)."""
    if len(code) > MAX_CHARS:
        return f"program longer than {MAX_CHARS} chars"
    err = try_parse(code) if parsed is None else parsed
    if isinstance(err, SyntaxError):
        return f"line {err.lineno}: {err.msg}"
    if isinstance(err, Exception):
        return f"{type(err).__name__}: {err}"
    return None


def apply_answer(parent: str, answer: Answer, parent_normal: str | None = None) -> AppliedAnswer:
    """The child an answer yields, or why none (unbalanced parent markers included).  The child
    is parsed once for all its checks, and once more if an import was added; `parent_normal`
    (`normalize_code(parent)`) lets a caller applying many answers to one parent compute it once."""
    blocks: list[BlockResult] = []
    notes = list(answer.notes)
    try:
        regions(parent.split("\n"))
        if answer.kind == "rewrite":
            child, reason, more = apply_rewrite(parent, answer.code or "")
            notes += more
        else:
            child, reason, blocks = apply_diff(parent, answer.edits)
    except MarkerError as e:
        child, reason = None, f"parent program: {e}"
    parsed = try_parse(child) if child is not None else None
    normal = normalize_code(child, parsed) if child is not None else None
    unchanged = normal is not None and normal == (normalize_code(parent) if parent_normal is None else parent_normal)
    if unchanged:
        child, reason = None, "edit leaves the program unchanged"
    if child is not None and (lost := dropped_names(parent, child, parsed)):
        child, reason = None, (f"the child no longer defines {', '.join(lost)}, which the code"
                               " outside the EVOLVE-BLOCK calls")
    if child is not None:
        child, added = add_missing_imports(child, parsed)
        notes += [f"added the missing import of {m}" for m in added]
        if added:  # the code changed: parse and normalise what is returned
            parsed = try_parse(child) if len(child) <= MAX_CHARS else None
            normal = normalize_code(child, parsed)
    return AppliedAnswer(
        slot=answer.slot, kind=answer.kind, ok=child is not None, code=child, reason=reason,
        blocks=blocks, notes=notes, syntax_error=syntax_error(child, parsed) if child is not None else None,
        normal=normal if child is not None else None, unchanged=unchanged,
    )


def mutate(parent: str, completion: str, m: int | None = None) -> MutationOutcome:
    """Parse a completion, apply every answer, drop children identical to an earlier one."""
    parsed = parse_answers(completion, m)
    rejected = list(parsed.issues)
    children: list[AppliedAnswer] = []
    seen: dict[str, int] = {}
    parent_normal = normalize_code(parent)
    for ans in parsed.answers:
        res = apply_answer(parent, ans, parent_normal)
        if not res.ok:
            kind = "unchanged" if res.unchanged else "inapplicable"
            rejected.append(AnswerIssue(slot=ans.slot, kind=kind, reason=res.reason or ""))
            continue
        key = res.normal or ""
        if key in seen:
            rejected.append(AnswerIssue(slot=ans.slot, kind="duplicate", reason=f"same program as answer {seen[key]}"))
            continue
        seen[key] = ans.slot
        children.append(res)
    rejected.sort(key=lambda i: (i.slot is None, i.slot or 0))
    return MutationOutcome(children=children, rejected=rejected, expected=m)
