"""Problems: the data at the bottom of the import graph (model, loaders, bundled suites)."""

from problems.model import (
    EVOLVE_END,
    EVOLVE_START,
    AssertTest,
    CallTest,
    EvaluatorTest,
    Problem,
    Record,
    ScorerTest,
    StdioTest,
    TestCase,
)

__all__ = [
    "EVOLVE_END",
    "EVOLVE_START",
    "AssertTest",
    "CallTest",
    "EvaluatorTest",
    "Problem",
    "Record",
    "ScorerTest",
    "StdioTest",
    "TestCase",
]
