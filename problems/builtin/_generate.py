"""Build the bundled suite's test files from each problem's `gen.py` (run by hand, not at load).

    python -m problems.builtin._generate [NAME ...] [--naive-timeout S]

For every problem directory with a `gen.py` (`cases() -> list[dict]`, deterministic: its own
seeded RNGs), expected values come from the trusted reference solution:
  * stdio: `reference.py` runs as a script on the input; its stdout is the expected output;
  * function: the reference's entry point is called on `args`;
  * scorer: the reference's output on the instance goes through `gen.finalize(instance,
    output)`, which stores the best known value the scorer compares against; the scorer must
    then give the reference exactly 1.0.
A `naive.py` (an obviously correct slow solution) cross-checks the reference on every case it
finishes within the timeout and must *not* finish the cases marked `large` (those exist to
punish slow solutions).  The written files (tests.jsonl, tests/*) are the source of truth;
large payloads go to files of their own, each kept under MAX_FILE_BYTES.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
INLINE_LIMIT = 2048  # larger payloads go to their own file
MAX_FILE_BYTES = 300 * 1024
NAIVE_MEMORY = 2 * 1024**3  # naive code that needs more has not finished
CASE_KEYS = {"id", "input", "args", "instance", "hidden", "large", "stage", "time_limit_s", "rel_tol", "abs_tol"}


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_builtin_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (NAIVE_MEMORY, NAIVE_MEMORY))


def _run(argv: list[str], stdin: str, timeout: float, strict: bool) -> tuple[str | None, float]:
    """stdout and seconds; None when it times out or (not strict: naive code) fails."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout,
            preexec_fn=None if strict else _limit_memory,
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start
    if proc.returncode != 0:
        if not strict:
            return None, time.perf_counter() - start
        raise RuntimeError(f"{argv[-1][:60]} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout, time.perf_counter() - start


def _run_script(path: Path, stdin: str, timeout: float, strict: bool = True) -> tuple[str | None, float]:
    return _run([sys.executable, str(path)], stdin, timeout, strict)


def _call(path: Path, entry: str, args: list, timeout: float, strict: bool = True) -> tuple[Any, float]:
    """Call a function of a trusted file in a child interpreter (so runaway naive code is killed)."""
    code = (
        "import json, sys, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "sys.setrecursionlimit(10000)\n"
        "args = json.loads(sys.stdin.read())\n"
        f"print(json.dumps(m.{entry}(*args)))\n"
    )
    out, took = _run([sys.executable, "-c", code], json.dumps(args), timeout, strict)
    return (None if out is None else json.loads(out)), took


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _spill(root: Path, test: dict, field: str, suffix: str, text: str, written: dict[str, str]) -> None:
    """Move a large field into tests/<id><suffix> (shared when identical) as <field>_file."""
    rel = written.get(text) or f"tests/{test['id']}{suffix}"
    if text not in written:
        data = text.encode("utf-8")
        if len(data) > MAX_FILE_BYTES:
            raise SystemExit(f"{root.name}/{rel}: {len(data)} bytes exceeds {MAX_FILE_BYTES}")
        (root / rel).write_bytes(data)
        written[text] = rel
    del test[field]
    test[f"{field}_file"] = rel


def build(root: Path, naive_timeout: float) -> None:
    spec = yaml.safe_load((root / "problem.yaml").read_text())
    gen = _module(root / "gen.py")
    reference, naive = root / "reference.py", root / "naive.py"
    limit = float(spec.get("time_limit_s", 2.0))
    score = None
    if (root / "scorer.py").is_file():
        ns: dict = {}
        exec((root / "scorer.py").read_text(), ns)
        score = ns["score"]
    shutil.rmtree(root / "tests", ignore_errors=True)
    (root / "tests").mkdir()
    lines, slowest, checked = [], 0.0, 0
    written: dict[str, str] = {}
    for case in gen.cases():
        unknown = set(case) - CASE_KEYS
        if unknown:
            raise SystemExit(f"{root.name}: case {case.get('id')}: unknown keys {sorted(unknown)}")
        large = bool(case.pop("large", False))
        test = dict(case)
        if "input" in case:  # stdio
            out, took = _run_script(reference, case["input"], timeout=60)
            test["output"] = out
            got_naive = _run_script(naive, case["input"], naive_timeout, strict=False)[0] if naive.is_file() else None
        elif "instance" in case:  # scorer
            out, took = _call(reference, spec["entry_point"], [case["instance"]], timeout=120)
            test["instance"] = gen.finalize(case["instance"], out)
            value = score(test["instance"], out)
            if value != 1.0:
                raise SystemExit(f"{root.name}/{case['id']}: reference scores {value}, not 1.0")
            got_naive = None
        else:  # call
            out, took = _call(reference, spec["entry_point"], case["args"], timeout=60)
            test["expected"] = out
            if not _has_float(out):  # exact answers: a float approximation must not pass
                test.update(rel_tol=0.0, abs_tol=0.0)
            got_naive = (
                _call(naive, spec["entry_point"], case["args"], naive_timeout, strict=False)[0] if naive.is_file() else None
            )
        checked += got_naive is not None
        if naive.is_file() and got_naive is not None and got_naive != out:
            raise SystemExit(f"{root.name}/{case['id']}: naive {str(got_naive)[:80]!r} != reference {str(out)[:80]!r}")
        if naive.is_file() and large and got_naive is not None:
            raise SystemExit(f"{root.name}/{case['id']}: large case finished by naive.py within {naive_timeout}s")
        slowest = max(slowest, took)
        for field, suffix in (("input", ".in"), ("output", ".out")):
            if field in test and len(test[field]) > INLINE_LIMIT:
                _spill(root, test, field, suffix, test[field], written)
        for field in ("args", "instance"):
            if field in test and len(json.dumps(test[field])) > INLINE_LIMIT:
                _spill(root, test, field, f".{field}.json", json.dumps(test[field], separators=(",", ":")), written)
        lines.append(json.dumps(test, separators=(",", ":")))
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > MAX_FILE_BYTES:
        raise SystemExit(f"{root.name}/tests.jsonl exceeds {MAX_FILE_BYTES} bytes")
    (root / "tests.jsonl").write_text(text)
    if not any((root / "tests").iterdir()):
        (root / "tests").rmdir()
    warn = "  <-- slow for the limit" if slowest > limit / 3 else ""
    naive_note = f", naive agrees on {checked}" if naive.is_file() else ""
    print(f"{root.name}: {len(lines)} tests, reference slowest {slowest:.2f}s (limit {limit}s){naive_note}{warn}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problem directories (default: all with gen.py)")
    parser.add_argument("--naive-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    roots = [ROOT / n for n in args.names] or sorted(p.parent for p in ROOT.glob("*/gen.py"))
    for root in roots:
        build(root, args.naive_timeout)


if __name__ == "__main__":
    main()
