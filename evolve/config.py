"""The run configuration: pydantic models loaded from YAML.

The models are the ONE source of defaults (`evolve config show` prints them); every section
forbids unknown keys, and a bad file gives one line naming the file and the key's dotted path.
A run stores the fully expanded config in its database, so resume never depends on the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evolve.map_elites import CodeLength, DimensionSpec, PassSignature
from evolve.mutations.fmt import FormatMode
from evolve.mutations.scaffold import ScaffoldConfig, build_scaffold
from evolve.mutator.config import MutatorConfig, SamplingParams, TransformersConfig
from evolve.distributed.config import WorkersConfig
from evolve.online_config import TrainerConfig
from evolve.operators import OperatorsConfig
from evolve.selection import EpsilonLexicase, StrategySpec
from sandbox.config import SandboxConfig


MAX_CONFIG_BYTES = 1 << 20  # a config file larger than this is a mistake (a log? a dataset?)
MAX_TEMPLATE_CHARS = 64 << 10  # per prompt template: prompts must fit a small model's context
INT_MAX = 2**63 - 1  # every config integer fits a signed 64-bit integer (SQLite, numpy, torch)


class ConfigError(ValueError):
    """A configuration problem, already phrased as one line for the user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+psycopg://...); null = SQLite file in the run dir",
    )
    filename: str = Field(
        default="evolve.db", description="the SQLite file used when url is null (a name inside the run dir)"
    )
    busy_timeout_s: float = Field(default=30.0, gt=0, description="SQLite lock wait")

    @field_validator("filename")
    @classmethod
    def _inside_run_dir(cls, v: str) -> str:
        # the run dir holds its database, so a run can be moved or copied as a whole
        if not v or "/" in v or v in (".", "..") or v.startswith(".lock"):
            raise ValueError("must be a plain file name (the database lives inside the run dir)")
        return v


class MapElitesConfig(_Section):
    dimensions: list[DimensionSpec] = Field(
        default_factory=lambda: [CodeLength(bins=8), PassSignature(bins=16)], min_length=1
    )


class IslandsConfig(_Section):
    count: int = Field(default=4, ge=1)
    migration_interval: int = Field(
        default=40, ge=0, description="iterations between ring migrations; 0 = never"
    )
    migration_fraction: float = Field(
        default=0.1, gt=0, le=1, description="top fraction of each island copied to the next"
    )
    reset_interval: int = Field(
        default=0, ge=0, description="iterations between resets of the worst islands; 0 = never"
    )
    reset_fraction: float = Field(
        default=0.5, gt=0, lt=1, description="fraction of islands (the worst) wiped and reseeded"
    )


class SelectionConfig(_Section):
    strategy: StrategySpec = Field(default_factory=EpsilonLexicase)
    inspirations: int = Field(default=2, ge=0, description="complementary elites per prompt")


class MutationConfig(_Section):
    format: FormatMode = Field(default="rewrite", description="what each answer holds")
    answers: int = Field(default=3, ge=1, description="m: answers (children) per completion")
    completions: int = Field(default=4, ge=1, description="G: completions per prompt (one group)")
    sampling: SamplingParams = Field(default_factory=SamplingParams)
    scaffold: ScaffoldConfig = Field(
        default_factory=ScaffoldConfig,
        description="the harness writes each answer's heading and code fence and the model only"
        " the code (evolve.mutations.scaffold); measured in benchmarks/answer_quality.py",
    )
    stop_after_answers: bool = Field(
        default=True,
        description="unscaffolded only: end a completion once its m answers' code blocks are"
        " closed (saves the tokens small models spend explaining, and keeps good answer sets"
        " from being truncated)",
    )

    @model_validator(mode="after")
    def _scaffold_vs_stops(self) -> "MutationConfig":
        if self.scaffold.enabled and (self.sampling.stop or self.sampling.stop_after_blocks):
            raise ValueError("sampling.stop / stop_after_blocks: not used with scaffold.enabled"
                             " (each answer ends at its closing fence); set scaffold.enabled: false")
        return self

    def params(self, seed: int, answers: int | None = None, parent: str = "") -> SamplingParams:
        """The sampling parameters of one generate call for prompts about `parent` (the
        scaffold opens rewrites with its EVOLVE-BLOCK marker); `answers` overrides m."""
        m = answers or self.answers
        update: dict = {"seed": seed}
        if self.scaffold.enabled:
            update["scaffold"] = build_scaffold(m, self.format, parent, self.scaffold,
                                                self.sampling.max_tokens)
            update["stop_after_blocks"] = None
        elif self.stop_after_answers and self.sampling.stop_after_blocks is None:
            update["stop_after_blocks"] = m
        return self.sampling.model_copy(update=update)


class PromptConfig(_Section):
    templates: dict[str, str] = Field(
        default_factory=dict, description="overrides of evolve.prompts.TEMPLATES, by name"
    )
    failing_tests: int = Field(default=5, ge=0, description="failing visible tests shown")
    passing_tests: int = Field(
        default=0, ge=0, description="passing visible tests shown with their expected results")
    recent_attempts: int = Field(default=4, ge=0, description="island's latest attempts shown")
    hidden_failures: bool = Field(
        default=False, description="say how many hidden tests the parent fails (a count, no ids)")

    @field_validator("templates")
    @classmethod
    def _known_templates(cls, v: dict[str, str]) -> dict[str, str]:
        from evolve.prompts import check_templates  # prompts import this module's users

        check_templates(v)
        for name, text in v.items():
            if len(text) > MAX_TEMPLATE_CHARS:
                raise ValueError(f"template {name!r} is {len(text)} characters, over the cap of {MAX_TEMPLATE_CHARS}")
        return v


class LoopConfig(_Section):
    mode: Literal["evolve", "best_of_n"] = Field(
        default="evolve", description="best_of_n: every prompt from the initial program (baseline)"
    )
    batch_size: int = Field(default=4, ge=1, description="prompts generated together")
    overlap: bool = Field(
        default=True,
        description="generate the next batch while the current one is evaluated; its parents "
        "then miss the current batch's children (a one-batch lag of feedback).  false: plan each "
        "batch after the previous one is stored (no lag; nothing generates while a batch is "
        "evaluated)",
    )
    iterations: int = Field(default=100, ge=0, description="budget: prompts (parent selections)")
    minutes: float | None = Field(default=None, gt=0, description="budget: active wall time")
    target_fitness: float | None = Field(default=None, ge=0, le=1, description="stop when reached")
    stop_when_solved: bool = Field(default=True, description="stop once a program passes all tests")
    seed: int = Field(default=0, ge=0)
    operators: OperatorsConfig = Field(
        default_factory=OperatorsConfig,
        description="where parents come from (fresh / refine / crossover) and the bandit that"
        " splits the budget among them (evolve.operators); best_of_n uses fresh only",
    )


class RunConfig(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    map_elites: MapElitesConfig = Field(default_factory=MapElitesConfig)
    islands: IslandsConfig = Field(default_factory=IslandsConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    mutation: MutationConfig = Field(default_factory=MutationConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    mutator: MutatorConfig = Field(default_factory=TransformersConfig)
    trainer: TrainerConfig | None = Field(
        default=None, description="online fine-tuning of the mutator (evolve.online); null = off"
    )
    workers: WorkersConfig = Field(
        default_factory=WorkersConfig,
        description="multi-worker runs on PostgreSQL (`evolve worker`, evolve.distributed)",
    )

    def snapshot(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(f"line {line}: duplicate key {key!r}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _dotted(loc: tuple, data: Any) -> str:
    """`a.b[0].c` from a pydantic error location, skipping union tags absent from the input."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int) and isinstance(data, list) and part < len(data):
            out, data = f"{out}[{part}]", data[part]
        elif isinstance(data, dict) and part in data:
            out, data = f"{out}.{part}" if out else str(part), data[part]
        elif i == len(loc) - 1 or not isinstance(part, str):
            out = f"{out}.{part}" if out else str(part)
        # else: a discriminated-union tag pydantic inserts; not a key the user wrote
    return out or "<root>"


def validate(data: Any, source: str) -> RunConfig:
    """Build a RunConfig from plain data, raising ConfigError with a one-line message."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a mapping, got {type(data).__name__}")
    try:
        cfg = RunConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _dotted(tuple(err["loc"]), data)
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        msg = msg.removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: {where}: {msg}{more}") from None
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    too_big = _out_of_int64(cfg.snapshot())
    if too_big:
        where, value = too_big
        raise ConfigError(f"{source}: {where}: {value} is out of range (integers must lie within "
                          f"+-{INT_MAX})")
    return cfg


def _out_of_int64(data: Any, where: str = "") -> tuple[str, int] | None:
    """The first integer (dotted path, value) that does not fit a signed 64-bit integer."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int):
        return (where or "<root>", data) if not -INT_MAX - 1 <= data <= INT_MAX else None
    if isinstance(data, dict):
        items = [(f"{where}.{k}" if where else str(k), v) for k, v in data.items()]
    elif isinstance(data, list):
        items = [(f"{where}[{i}]", v) for i, v in enumerate(data)]
    else:
        return None
    return next((found for path, v in items if (found := _out_of_int64(v, path))), None)


def load_config(path: str | Path | None) -> RunConfig:
    """The config in `path` (defaults for every absent key); None gives all defaults."""
    if path is None:
        return RunConfig()
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():  # a FIFO or device would block or never end
            raise ConfigError(f"{path}: not a regular file")
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {size} bytes, over the cap of {MAX_CONFIG_BYTES} for a config file")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{path}: {at}invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return validate(data, str(path))


def with_problem_defaults(cfg: RunConfig, defaults: dict[str, Any], source: str) -> RunConfig:
    """`cfg` plus the problem's suggested settings (dotted keys, e.g. `loop.iterations` from an
    OpenEvolve config.yaml) wherever the run's own config left the key at its default."""
    data = cfg.model_dump(mode="json")
    for key, value in defaults.items():
        parts = key.split(".")
        node: Any = cfg
        explicit = True
        for part in parts:
            if not isinstance(node, BaseModel) or part not in type(node).model_fields:
                raise ConfigError(f"{source}: {key}: unknown key")
            if part not in node.model_fields_set:
                explicit = False
                break
            node = getattr(node, part)
        if explicit:
            continue
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{source}: {key}: its section is off in this run's config")
        target[parts[-1]] = value
    return validate(data, source)


def dump_yaml(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.snapshot(), sort_keys=False, default_flow_style=False)
