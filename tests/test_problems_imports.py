"""problems.imports.imported_modules: the one walk over a module's imports (the OpenEvolve
loader's requirements and shim check, the sandbox image's runner files)."""

from __future__ import annotations

import ast

from problems.imports import imported_modules

SOURCE = '''
import numpy as np, os.path
from scipy.optimize import minimize
from . import sibling
from .helpers import util
from openevolve.evaluation_result import EvaluationResult

def f():
    import sympy
    from json import loads
'''


def test_absolute_imports_anywhere_relative_ones_never():
    assert sorted(imported_modules(ast.parse(SOURCE))) == [
        "json", "numpy", "openevolve.evaluation_result", "os.path", "scipy.optimize", "sympy"]


def test_a_module_without_imports_gives_nothing():
    assert list(imported_modules(ast.parse("x = 1\n"))) == []
