"""Run config: one source of defaults, unknown keys rejected with their dotted path."""

from __future__ import annotations

import pytest
import yaml

from evolve.config import ConfigError, RunConfig, dump_yaml, load_config


def _load(tmp_path, text: str) -> RunConfig:
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return load_config(p)


def _error(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, text)
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / "cfg.yaml") in msg
    return msg


def test_defaults_round_trip_through_show(tmp_path):
    shown = dump_yaml(RunConfig())
    assert _load(tmp_path, shown) == RunConfig()
    assert _load(tmp_path, "") == RunConfig()


def test_partial_file_keeps_other_defaults(tmp_path):
    cfg = _load(tmp_path, "loop: {batch_size: 2, seed: 7}\nselection:\n  strategy: {name: tournament, size: 5}\n")
    assert (cfg.loop.batch_size, cfg.loop.seed, cfg.loop.iterations) == (2, 7, RunConfig().loop.iterations)
    assert cfg.selection.strategy.name == "tournament" and cfg.selection.strategy.size == 5


@pytest.mark.parametrize(
    "text, where",
    [
        ("loop: {batch_size: 2, bogus: 1}\n", "loop.bogus: unknown key"),
        ("colour: red\n", "colour: unknown key"),
        ("map_elites:\n  dimensions:\n    - {kind: code_length, colour: red}\n",
         "map_elites.dimensions[0].colour: unknown key"),
        ("selection:\n  strategy: {name: lexicase, size: 3}\n", "selection.strategy.size: unknown key"),
        ("selection:\n  strategy: {name: nope}\n", "selection.strategy"),
        ("islands: {count: 0}\n", "islands.count"),
        ("prompt:\n  templates: {nope: x}\n", "prompt.templates: unknown template 'nope'"),
        ("prompt:\n  templates: {task: '$bogus'}\n", "unknown placeholder $bogus"),
        ("map_elites:\n  dimensions:\n    - {kind: code_length, range: [5, 1]}\n", "map_elites.dimensions[0]"),
        ("loop: {seed: 1}\nloop: {seed: 2}\n", "line 2: duplicate key 'loop'"),
        ("loop: [1, 2\n", "invalid YAML"),
        ("- 1\n", "must be a mapping"),
        ("mutator: {backend: vllm, model: m, colour: x}\n", "mutator.colour: unknown key"),
        ("mutator: {backend: vllm}\n", "mutator.model: Field required"),
        ("sandbox: {process: {jail: none, bar: 2}}\n", "sandbox.process.bar: unknown key"),
        ("trainer: {lr: 0.1, foo: 1}\n", "trainer.foo: unknown key"),
        ("mutation: {sampling: {temprature: 0.1}}\n", "mutation.sampling.temprature: unknown key"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path, text, where):
    assert where in _error(tmp_path, text)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_embedded_models_of_other_packages(tmp_path):
    cfg = _load(tmp_path, "mutator: {backend: vllm, model: m}\ntrainer: {lr: 0.001}\n"
                          "sandbox: {backend: process, slots: 3}\n")
    assert cfg.mutator.backend == "vllm" and cfg.trainer.lr == 0.001 and cfg.sandbox.slots == 3
    assert RunConfig().trainer is None  # online fine-tuning is opt-in


def test_show_lists_every_section():
    data = yaml.safe_load(dump_yaml(RunConfig()))
    assert set(data) == set(RunConfig.model_fields)
    assert data["loop"]["mode"] == "evolve" and data["database"]["url"] is None


def test_generation_stops_after_the_m_answers_unless_disabled():
    cfg = RunConfig.model_validate({"mutation": {"answers": 3, "sampling": {"max_tokens": 100},
                                                 "scaffold": {"enabled": False}}})
    p = cfg.mutation.params(seed=7)
    assert (p.seed, p.stop_after_blocks, p.max_tokens, p.scaffold) == (7, 3, 100, None)
    assert cfg.mutation.params(seed=7, answers=1).stop_after_blocks == 1
    off = RunConfig.model_validate({"mutation": {"stop_after_answers": False, "scaffold": {"enabled": False}}})
    assert off.mutation.params(seed=0).stop_after_blocks is None


def test_scaffold_is_on_by_default_and_opens_rewrites_at_the_evolve_block():
    cfg = RunConfig.model_validate({"mutation": {"answers": 3, "sampling": {"max_tokens": 300}}})
    parent = "import sys\n# EVOLVE-BLOCK-START\nx = 1\n# EVOLVE-BLOCK-END\n"
    p = cfg.mutation.params(seed=1, parent=parent)
    assert p.stop_after_blocks is None and p.scaffold is not None
    assert p.scaffold.openings[0] == "### Answer 1\n```python\n# EVOLVE-BLOCK-START\n"
    assert p.scaffold.openings[2].startswith("\n\n### Answer 3 (a different approach from Answers 1 and 2)\n")
    assert p.scaffold.max_answer_tokens == 100
    bare = cfg.mutation.params(seed=1, answers=1, parent="x = 1\n").scaffold
    assert bare.openings == ["### Answer 1\n```python\n"]
    diff = RunConfig.model_validate({"mutation": {"format": "diff"}}).mutation.params(seed=1, parent=parent)
    assert "EVOLVE-BLOCK-START" not in diff.scaffold.openings[0]


@pytest.mark.parametrize("mutation, field", [
    ({"sampling": {"stop": ["END"]}}, "mutation"),
    ({"scaffold": {"later_heading": " {oops}"}}, "mutation.scaffold.later_heading"),
    ({"scaffold": {"max_answer_tokens": 0}}, "mutation.scaffold.max_answer_tokens"),
    ({"scaffold": {"bogus": 1}}, "mutation.scaffold.bogus"),
])
def test_bad_scaffold_settings_are_one_line_errors(tmp_path, mutation, field):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"mutation": mutation}))
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).count("\n") == 0 and field in str(e.value) and str(path) in str(e.value)