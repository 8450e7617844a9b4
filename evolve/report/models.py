"""What the report shows, as plain validated data: the boundary between the queries
(`evolve.report.data`, `evolve.report.mutator_data`) and the HTML (`evolve.report.html`).

Everything here is already aggregated to a few hundred points, so rendering never depends on the
size of the run.  x positions are "answers generated": m answers per completion, counted in
iteration order, the run's common clock for search and mutator alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Summary(_Data):
    run_id: str
    problem_id: str
    status: str
    stop_reason: str
    created_at: datetime | None
    updated_at: datetime | None
    database: str
    counters: dict[str, Any]
    programs: int
    best_seq: int | None
    best_fitness: float | None
    best_passed: int
    tests: int
    tests_solved: int = Field(description="tests passed by some current elite")
    model_version: int
    answers: int = Field(description="answers asked for: completions x m")
    islands: int
    m: int
    g: int


class IslandLine(_Data):
    """One island's curve over the binned timeline (None: nothing that bin)."""

    island: int
    y: list[float | None]


class FitnessData(_Data):
    x: list[float] = Field(description="answers generated at the end of each bin")
    best: list[IslandLine] = Field(description="best fitness so far on the island")
    mean: list[IslandLine] = Field(description="moving mean fitness of the island's last `window` children")
    window: int
    improvements: int = Field(description="new programs that raised the run's best fitness")


class GridAxis(_Data):
    kind: str
    label: str
    bins: int
    lo: float
    hi: float
    mode: str


class GridCell(_Data):
    key: list[int]
    seq: int
    fitness: float


class GridData(_Data):
    axes: list[GridAxis]
    islands: dict[int, list[GridCell]]


class TestInfo(_Data):
    __test__ = False  # not a pytest class
    id: str
    hidden: bool
    stage: int


class CoverageRow(_Data):
    seq: int
    island: int
    fitness: float
    scores: list[float]


class CoverageData(_Data):
    tests: list[TestInfo]
    rows: list[CoverageRow] = Field(description="the fittest elites, best first")
    any_elite: list[float] = Field(description="best score of any elite, per test")
    elites: int = Field(description="elites on all islands (rows may show fewer)")


class LineageStep(_Data):
    seq: int
    parent_seq: int | None
    island: int
    generation: int
    origin: str
    fitness: float
    passed: int
    iteration: int | None
    policy_version: int
    diff: str = Field(description="unified diff from the parent ('' for the first step or a copy)")


class LineageData(_Data):
    steps: list[LineageStep] = Field(description="oldest ancestor first, the best program last")
    omitted: int = Field(description="older ancestors not shown")


class AnswersData(_Data):
    x: list[float]
    counts: dict[str, list[int]] = Field(description="answer slots per status, per bin")
    totals: dict[str, int]
    extra: int = Field(description="answers beyond the m asked for")
    truncated: int = Field(description="completions that hit the token limit")
    completions: int


class TrainPoint(_Data):
    step: float = Field(description="learner step (mean of the steps a point aggregates)")
    metrics: dict[str, float]


class TrainingData(_Data):
    configured: bool
    reward: str | None
    source: str = Field(description="where the metrics came from: train events or trainer.jsonl")
    steps: int
    updates: int
    points: list[TrainPoint]
    version_minutes: list[float] = Field(description="wall minutes since the run was created")
    versions: list[int] = Field(description="adapter version after each recorded step")
    sampled_x: list[float]
    sampled_version: list[float | None] = Field(description="newest policy version sampling, per bin")


class AccountingData(_Data):
    batches: int
    recorded: int = Field(description="batches with stats (null in runs older than the column)")
    has_column: bool
    totals: dict[str, float]
    x: list[float] = Field(description="batch bins: answers generated at the end of each")
    split: dict[str, list[float]] = Field(description="generate/evaluate/learn seconds per bin")
    tokens_per_s: list[float | None]
    minutes: list[float] = Field(description="wall minutes since the first batch, per done batch bin")
    answers_cum: list[float]
    programs_cum: list[float]


class ReportData(_Data):
    summary: Summary
    fitness: FitnessData
    grid: GridData
    coverage: CoverageData
    lineage: LineageData
    answers: AnswersData
    training: TrainingData
    accounting: AccountingData
    config: dict[str, Any]
