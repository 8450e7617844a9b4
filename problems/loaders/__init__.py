"""Loader registry: each input format is one module with `detect(path)` and `load(path)`.

`load_suite(name)` resolves a named suite (builtin, discovery, humaneval) or any path; `load_problem`
takes a problem id (`builtin/lis_count`, `HumanEval/3`) or a path.  A directory that no loader
claims is treated as a collection: every child some loader claims is loaded, in name order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from problems.errors import ProblemFormatError
from problems.loaders import directory, humaneval, livecodebench, openevolve
from problems.model import Problem

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "builtin"
DISCOVERY_DIR = Path(__file__).resolve().parent.parent / "discovery"


@dataclass(frozen=True)
class Loader:
    name: str
    detect: Callable[[Path], bool]
    load: Callable[[Path], list[Problem]]


@dataclass(frozen=True)
class Suite:
    name: str
    path: Callable[[], Path]
    id_prefix: str
    description: str


LOADERS: dict[str, Loader] = {
    m.NAME: Loader(m.NAME, m.detect, m.load) for m in (directory, openevolve, humaneval, livecodebench)
}

SUITES: dict[str, Suite] = {
    "builtin": Suite("builtin", lambda: BUILTIN_DIR, "builtin/", "bundled algorithmic and discovery problems"),
    "discovery": Suite("discovery", lambda: DISCOVERY_DIR, "discovery/",
                       "the field's discovery problems (circle packing, autocorrelation, FunSearch bin packing, TSP) with published records"),
    "humaneval": Suite("humaneval", humaneval.data_path, "HumanEval/", "HumanEval (164), one test per assert"),
}


def loader_for(path: Path) -> Loader | None:
    return next((ld for ld in LOADERS.values() if ld.detect(path)), None)


def load_path(path: str | Path) -> list[Problem]:
    """Every problem at `path`: a problem itself, a data file, or a directory of them."""
    path = Path(path)
    if not path.exists():
        raise ProblemFormatError("no such file or directory", file=path)
    loader = loader_for(path)
    if loader is not None:
        return loader.load(path)
    if path.is_dir():
        problems = [p for child in sorted(path.iterdir()) if loader_for(child) for p in load_path(child)]
        if problems:
            return problems
    formats = ", ".join(LOADERS)
    raise ProblemFormatError(f"no loader recognises this path (formats: {formats})", file=path)


@lru_cache(maxsize=8)
def _suite_cached(name: str) -> tuple[Problem, ...]:
    return tuple(load_path(SUITES[name].path()))


def load_suite(name: str) -> list[Problem]:
    """A named suite, or a path to load."""
    if name in SUITES:
        return list(_suite_cached(name))
    if Path(name).exists():
        return load_path(name)
    raise ProblemFormatError(f"unknown suite (known: {', '.join(SUITES)}; or give a path)", field=name)


def load_problem(id_or_path: str) -> Problem:
    """One problem by id (searched in the suite whose prefix matches) or by path."""
    for suite in SUITES.values():
        if id_or_path.startswith(suite.id_prefix):
            for problem in _suite_cached(suite.name):
                if problem.id == id_or_path:
                    return problem
            raise ProblemFormatError(f"no problem with this id in suite {suite.name}", field=id_or_path)
    if Path(id_or_path).exists():
        found = load_path(id_or_path)
        if len(found) != 1:
            raise ProblemFormatError(f"holds {len(found)} problems; load it as a suite", file=id_or_path)
        return found[0]
    prefixes = ", ".join(s.id_prefix for s in SUITES.values())
    raise ProblemFormatError(f"unknown problem (ids start with {prefixes}; or give a path)", field=id_or_path)


__all__ = ["LOADERS", "SUITES", "Loader", "Suite", "load_path", "load_problem", "load_suite", "loader_for"]
