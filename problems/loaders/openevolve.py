"""OpenEvolve example directories: initial_program.py + evaluator.py (+ config.yaml).

The user's `evaluate(program_path) -> dict` imports the candidate, so it must run inside the
sandbox: the problem is in `program` mode and every numeric metric becomes one EvaluatorTest
(the runner writes the program to a file, calls the evaluator function once, and scores each
test by normalising its metric).  With `evaluate_stage1..3` and cascade evaluation on (the
OpenEvolve default), stage k's metrics are stage-k tests and the cascade thresholds carry over.

Metric names are found statically (nothing of the user's runs on the host): string keys of the
dict literals that the evaluation functions return (directly, through a local variable, through
`EvaluationResult(metrics=...)` or through another module function), minus `error` and keys
whose values are strings or booleans.  An optional `metrics.yaml` sidecar replaces discovery
and sets each metric's raw range: `metrics: {name: {lower, upper, maximize, weight, function}}`.
Fitness follows OpenEvolve: `combined_score` when present (other metrics get weight 0: vector
components only), else the mean of all metrics.

config.yaml's settings that have an equivalent here become the problem's `run_defaults` (dotted
run-config keys that `evolve seed` applies where the run's own config is silent: see
CONFIG_MAP); the evaluator section sets time limits and the cascade; every other key is listed
in `source.ignored_config`, so nothing is dropped silently.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from problems.errors import ProblemFormatError, from_validation
from problems.imports import imported_modules
from problems.loaders._util import build_problem, load_yaml, read_text, wrap_block
from problems.model import EVOLVE_START, EvaluatorTest, Problem

NAME = "openevolve"
PROGRAM = "initial_program.py"
EVALUATOR = "evaluator.py"
CONFIG = "config.yaml"
METRICS = "metrics.yaml"
REQUIREMENTS = "requirements.txt"
NOT_SUPPORT = {PROGRAM, EVALUATOR, CONFIG, METRICS, REQUIREMENTS}
SUPPORT_SUFFIXES = {".py", ".json", ".txt", ".csv", ".yaml", ".yml", ".md", ".tsv", ".dat"}
MAX_SUPPORT_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT_S = 300.0  # OpenEvolve's evaluator.timeout
DEFAULT_THRESHOLDS = [0.5, 0.75, 0.9]  # OpenEvolve's evaluator.cascade_thresholds
FITNESS_METRIC = "combined_score"
IGNORED_KEYS = {"error", "artifacts"}
# OpenEvolve config key -> (our run-config key, expected type, value translation)
CONFIG_MAP: dict[str, tuple[str, type | tuple, Any]] = {
    "max_iterations": ("loop.iterations", int, None),
    "random_seed": ("loop.seed", int, None),
    "diff_based_evolution": ("mutation.format", bool, lambda v: "diff" if v else "rewrite"),
    "llm.temperature": ("mutation.sampling.temperature", (int, float), float),
    "llm.top_p": ("mutation.sampling.top_p", (int, float), float),
    "llm.max_tokens": ("mutation.sampling.max_tokens", int, None),
    "database.num_islands": ("islands.count", int, None),
    "database.migration_interval": ("islands.migration_interval", int, None),  # generations -> iterations
    "database.migration_rate": ("islands.migration_fraction", (int, float), float),
}
# import name -> PyPI distribution, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml", "cv2": "opencv-python"}
# Evaluators may return `openevolve.evaluation_result.EvaluationResult`: the sandbox gets this
# stand-in module (the worker reads `.metrics`), so such evaluators run unchanged.
SHIM_PACKAGE = "openevolve"
SHIM_FILES = {
    "openevolve/__init__.py": "",
    "openevolve/evaluation_result.py": (
        "from dataclasses import dataclass, field\n\n\n@dataclass\nclass EvaluationResult:\n"
        "    metrics: dict\n    artifacts: dict = field(default_factory=dict)\n"
    ),
}
READ_HERE = {"evaluator.timeout", "evaluator.cascade_evaluation", "evaluator.cascade_thresholds",
             "prompt.system_message"}  # become the problem's limits, cascade and statement


class MetricSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lower: float = 0.0
    upper: float = 1.0
    maximize: bool = True
    weight: float | None = Field(default=None, ge=0)
    function: str | None = None


class MetricsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metrics: dict[str, MetricSpec] = Field(min_length=1)


def detect(path: Path) -> bool:
    return path.is_dir() and (path / PROGRAM).is_file() and (path / EVALUATOR).is_file()


def load(path: Path) -> list[Problem]:
    evaluator_path = path / EVALUATOR
    evaluator_code = read_text(evaluator_path)
    try:
        tree = ast.parse(evaluator_code)
    except SyntaxError as exc:
        raise ProblemFormatError(f"does not parse: {exc.msg}", file=evaluator_path, line=exc.lineno) from None
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    evaluator_cfg, statement, run_defaults, ignored = _config(path / CONFIG)
    chain = _chain(functions, evaluator_cfg, evaluator_path)
    timeout = float(evaluator_cfg.get("timeout", DEFAULT_TIMEOUT_S))
    tests = _tests(path, functions, chain, timeout, evaluator_path)
    thresholds = list(evaluator_cfg.get("cascade_thresholds", DEFAULT_THRESHOLDS))[: len(chain) - 1]
    program = read_text(path / PROGRAM)
    support = _support_files(path)
    if _imports_shim(tree):
        support = {**SHIM_FILES, **support}
    if not statement:  # no system message: the program's own docstring says what it is for
        try:
            statement = ast.get_docstring(ast.parse(program)) or ""
        except SyntaxError:
            statement = ""
    if EVOLVE_START not in program:
        program = wrap_block(program)
    return [
        build_problem(
            {
                "id": f"openevolve/{path.resolve().name}",
                "title": path.resolve().name,
                "statement": statement,
                "mode": "program",
                "initial_program": program,
                "evaluator_code": evaluator_code,
                "support_files": support,
                "tests": tests,
                "time_limit_s": timeout,
                "wall_limit_s": timeout * len(chain) + 60.0,
                "scoring": "continuous",
                "stage_thresholds": [float(t) for t in thresholds],
                "source": {"format": NAME, "functions": chain, "ignored_config": ignored},
                "run_defaults": run_defaults,
                "requirements": _requirements([program, evaluator_code], _local_modules(support)),
            },
            file=path / CONFIG if (path / CONFIG).is_file() else evaluator_path,
        )
    ]


def _config(path: Path) -> tuple[dict[str, Any], str, dict[str, Any], list[str]]:
    """(evaluator section, system message, run defaults, ignored keys) of config.yaml."""
    if not path.is_file():
        return {}, "", {}, []
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise ProblemFormatError("top level must be a mapping", file=path, line=1)
    evaluator = data.get("evaluator") or {}
    prompt = data.get("prompt") or {}
    if not isinstance(evaluator, dict):
        raise ProblemFormatError("must be a mapping", file=path, field="evaluator")
    if "timeout" in evaluator and not (isinstance(evaluator["timeout"], (int, float)) and evaluator["timeout"] > 0):
        raise ProblemFormatError("must be a positive number", file=path, field="evaluator.timeout")
    thresholds = evaluator.get("cascade_thresholds", DEFAULT_THRESHOLDS)
    if not isinstance(thresholds, list) or not all(isinstance(t, (int, float)) for t in thresholds):
        raise ProblemFormatError("must be a list of numbers", file=path, field="evaluator.cascade_thresholds")
    message = prompt.get("system_message", "") if isinstance(prompt, dict) else ""
    defaults, ignored = _run_defaults(data, path)
    return evaluator, message if isinstance(message, str) else "", defaults, ignored


def _flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{"llm.temperature": 0.7, ...}; a mapping OpenEvolve reads as a whole (llm.models, a
    list) stays one key."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and dotted.count(".") < 1:
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _run_defaults(data: dict, path: Path) -> tuple[dict[str, Any], list[str]]:
    defaults: dict[str, Any] = {}
    ignored = []
    for key, value in _flatten(data).items():
        if key in READ_HERE:
            continue
        if key not in CONFIG_MAP or value is None:
            ignored.append(key)
            continue
        ours, kind, translate = CONFIG_MAP[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProblemFormatError(f"must be {getattr(kind, '__name__', 'a number')}", file=path, field=key)
        defaults[ours] = translate(value) if translate else value
    return defaults, sorted(ignored)


def _requirements(sources: list[str], local: set[str]) -> list[str]:
    """Third-party packages the program and evaluator import (what the sandbox must provide).

    Read from the import statements, not from requirements.txt: OpenEvolve examples list their
    host tools there (matplotlib for plots), which never run in the sandbox."""
    found: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # the sandbox reports it, per candidate
        for name in imported_modules(tree):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in local or top == SHIM_PACKAGE:
                continue
            dist = DISTRIBUTIONS.get(top, top)
            if dist not in found:
                found.append(dist)
    return found


def _chain(functions: dict[str, ast.AST], cfg: dict[str, Any], file: Path) -> list[str]:
    """The evaluation functions OpenEvolve would call, in stage order."""
    if cfg.get("cascade_evaluation", True) and "evaluate_stage1" in functions:
        return [f"evaluate_stage{k}" for k in (1, 2, 3) if f"evaluate_stage{k}" in functions]
    if "evaluate" not in functions:
        raise ProblemFormatError("defines no evaluate(program_path)", file=file)
    return ["evaluate"]


def _tests(path: Path, functions: dict, chain: list[str], timeout: float, file: Path) -> list[EvaluatorTest]:
    specs = _metrics_file(path / METRICS)
    per_function: dict[str, dict[str, MetricSpec]] = {}
    if specs is not None:
        for name, spec in specs.items():
            fn = spec.function or chain[-1]
            if fn not in chain:
                raise ProblemFormatError(f"not one of the evaluation functions {chain}", file=path / METRICS, field=f"metrics.{name}.function")
            per_function.setdefault(fn, {})[name] = spec
    else:
        for fn in chain:
            names = discover_metrics(functions, fn)
            per_function[fn] = {n: MetricSpec() for n in names}
        if not any(per_function.values()):
            raise ProblemFormatError(
                f"no metric names found in the dicts that {', '.join(chain)} return; list them in {METRICS}", file=file
            )
    tests = []
    for stage, fn in enumerate(chain, 1):
        metrics = per_function.get(fn, {})
        has_fitness = FITNESS_METRIC in metrics
        for name, spec in metrics.items():
            weight = spec.weight if spec.weight is not None else float(not has_fitness or name == FITNESS_METRIC)
            try:
                tests.append(
                    EvaluatorTest(
                        id=f"{fn}:{name}", stage=stage, function=fn, metric=name, weight=weight,
                        lower=spec.lower, upper=spec.upper, maximize=spec.maximize, time_limit_s=timeout,
                    )
                )
            except ValidationError as exc:
                raise from_validation(exc, file=path / METRICS, prefix=f"metrics.{name}") from None
    return tests


def _metrics_file(path: Path) -> dict[str, MetricSpec] | None:
    if not path.is_file():
        return None
    try:
        return MetricsFile.model_validate(load_yaml(path)).metrics
    except ValidationError as exc:
        raise from_validation(exc, file=path) from None


def discover_metrics(functions: dict[str, ast.AST], name: str, _seen: frozenset = frozenset()) -> list[str]:
    """Numeric metric keys that function `name` returns (static, best effort, ordered)."""
    fn = functions.get(name)
    if fn is None or name in _seen:
        return []
    seen = _seen | {name}
    dicts = _local_dicts(fn)
    keys: dict[str, bool] = {}  # key -> has a numeric-looking value
    for ret in _own_nodes(fn, ast.Return):
        for key, numeric in _returned_keys(ret.value, dicts, functions, seen):
            keys[key] = keys.get(key, False) or numeric
    return [k for k, numeric in keys.items() if numeric and k not in IGNORED_KEYS]


def _own_nodes(fn: ast.AST, kind: type) -> list:
    """Nodes of `kind` in fn's body, not inside nested functions or classes."""
    out, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, kind):
            out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(out, key=lambda n: (n.lineno, n.col_offset))


def _local_dicts(fn: ast.AST) -> dict[str, list[tuple[str, bool]]]:
    """Variable -> keys put into it by `v = {...}` or `v["k"] = ...` inside fn."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for node in _own_nodes(fn, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict):
                found.setdefault(target.id, []).extend(_dict_keys(node.value))
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and isinstance(target.slice, ast.Constant)
                and isinstance(target.slice.value, str)
            ):
                found.setdefault(target.value.id, []).append((target.slice.value, _numeric(node.value)))
    return found


def _returned_keys(value, dicts, functions, seen) -> list[tuple[str, bool]]:
    if isinstance(value, ast.Dict):
        return _dict_keys(value)
    if isinstance(value, ast.Name):
        return dicts.get(value.id, [])
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id == "EvaluationResult":
            inner = [k.value for k in value.keywords if k.arg == "metrics"] + value.args[:1]
            return [kv for v in inner for kv in _returned_keys(v, dicts, functions, seen)]
        if value.func.id in functions:
            return [(k, True) for k in discover_metrics(functions, value.func.id, seen)]
    return []


def _dict_keys(node: ast.Dict) -> list[tuple[str, bool]]:
    return [
        (k.value, _numeric(v))
        for k, v in zip(node.keys, node.values)
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    ]


def _numeric(value: ast.AST) -> bool:
    """False for values that are plainly strings or booleans (flags, messages)."""
    if isinstance(value, ast.Constant):
        return type(value.value) in (int, float)
    if isinstance(value, ast.JoinedStr):
        return False
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in {"str", "repr", "bool"}:
        return False
    return True


def _imports_shim(tree: ast.AST) -> bool:
    return any(name.split(".")[0] == SHIM_PACKAGE for name in imported_modules(tree))


def _local_modules(support: dict[str, str]) -> set[str]:
    """Top-level module names the support files provide (helpers.py -> helpers)."""
    return {rel.split("/")[0].removesuffix(".py") for rel in support}


def _support_files(root: Path) -> dict[str, str]:
    """Text files next to the evaluator (helper modules, data) that it may open or import."""
    files: dict[str, str] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel in NOT_SUPPORT or path.suffix not in SUPPORT_SUFFIXES:
            continue
        if any(part.startswith((".", "__pycache__")) for part in path.relative_to(root).parts):
            continue
        if path.name.lower().startswith("readme") or "openevolve_output" in rel:
            continue
        total += path.stat().st_size
        if total > MAX_SUPPORT_BYTES:
            raise ProblemFormatError(f"support files exceed {MAX_SUPPORT_BYTES} bytes", file=path)
        files[rel] = read_text(path)
    return files
