"""`evolve sandbox ...`: evaluate one program from the command line; build the image."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import click

from sandbox.config import ProcessOptions, SandboxConfig


@click.group("sandbox")
def sandbox_group() -> None:
    """Run candidate programs in the sandbox; build its image."""


@sandbox_group.command("run")
@click.argument("program", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--problem", "problem_ref", required=True, help="problem id (e.g. builtin/..., humaneval/0) or path")
@click.option("--backend", type=click.Choice(["auto", "process", "docker"]), default="auto", show_default=True)
@click.option("--unsafe-rlimits-only", "unsafe", is_flag=True,
              help="UNSAFE: with no bubblewrap/unshare, run the program with rlimits only (no isolation)")
@click.option("--json", "as_json", is_flag=True, help="print the EvalResult as JSON")
def run_command(program: Path, problem_ref: str, backend: str, unsafe: bool, as_json: bool) -> None:
    """Evaluate PROGRAM against a problem's tests and print the per-test results."""
    from problems.loaders import load_problem
    from sandbox.api import Sandbox
    from sandbox.isolation import SandboxUnavailable

    try:
        code = read_program(program)
        problem = load_problem(problem_ref)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    config = SandboxConfig(backend=backend, slots=1, process=ProcessOptions(unsafe_rlimits_only=unsafe))
    try:
        with Sandbox(config) as box:
            result = box.evaluate(problem, code)
            used = box.describe()
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"sandbox": used, **result.model_dump()}, indent=2))
        return
    _print_table(problem.id, result, used["jail"])


def read_program(path: Path) -> str:
    """A program file's text: a regular file (never a FIFO or device that could block or never
    end), UTF-8, at most MAX_PROGRAM_CHARS characters; ValueError (one line) otherwise."""
    from problems.model import MAX_PROGRAM_CHARS

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path}: not a regular file")
        if st.st_size > 4 * MAX_PROGRAM_CHARS:
            raise ValueError(f"{path}: {st.st_size} bytes, over the cap of {MAX_PROGRAM_CHARS} characters for a program")
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    if len(text) > MAX_PROGRAM_CHARS:
        raise ValueError(f"{path}: {len(text)} characters, over the cap of {MAX_PROGRAM_CHARS} for a program")
    return text


def _print_table(problem_id: str, result, jail: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{problem_id}: fitness {result.fitness:.3f}, "
                        f"{result.passed}/{len(result.outcomes)} passed ({result.backend}, jail {jail}, "
                        f"{result.wall_ms:.0f} ms)")
    for col in ("test", "stage", "status", "score", "ms", "message"):
        table.add_column(col)
    colours = {"passed": "green", "failed": "red", "skipped": "dim"}
    for o in result.outcomes:
        colour = colours.get(o.status, "yellow")
        table.add_row(o.test_id, str(o.stage), f"[{colour}]{o.status}[/]", f"{o.score:.3f}",
                      f"{o.runtime_ms:.1f}", o.message)
    Console(file=sys.stdout).print(table)
    if result.error:
        click.echo(f"error: {result.error}")


CONFIG_OPTION = click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                             help="a run config whose sandbox.requirements to install [default: numpy, scipy]")
REQUIREMENT_OPTION = click.option("--requirement", "-r", "extra", multiple=True,
                                  help="another pinned package (name==version) to install; repeatable")


@sandbox_group.command("build-image")
@click.option("--tag", default=None, help="image name [default: SandboxConfig().docker.image]")
@click.option("--base", default="debootstrap", show_default=True,
              help="'debootstrap' (no registry: Debian root from this machine's apt mirror) or a pullable image, e.g. python:3.11-slim")
@click.option("--mirror", default="auto", show_default=True, help="Debian archive URL for debootstrap; auto = the one apt uses here")
@click.option("--force", is_flag=True, help="rebuild even if the image matches the current runner")
@CONFIG_OPTION
@REQUIREMENT_OPTION
def build_image_command(tag: str | None, base: str, mirror: str, force: bool, config: Path | None,
                        extra: tuple[str, ...]) -> None:
    """Build the sandbox image and the process jail's package site (skipped when up to date)."""
    from sandbox.image import ImageError, build_image
    from sandbox.requirements import RequirementError

    tag = tag or SandboxConfig().docker.image
    requirements = _requirements(config, extra)
    try:
        _build_site(requirements)
        report = build_image(tag, base=base, mirror=None if mirror == "auto" else mirror, force=force,
                             log=lambda line: click.echo(line, err=True), requirements=requirements)
    except (ImageError, RequirementError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())


@sandbox_group.command("build-site")
@CONFIG_OPTION
@REQUIREMENT_OPTION
def build_site_command(config: Path | None, extra: tuple[str, ...]) -> None:
    """Install the pinned packages (numpy, scipy, ...) for the process jail's interpreter."""
    from sandbox.requirements import RequirementError

    try:
        site = _build_site(_requirements(config, extra))
    except RequirementError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"package site ready: {site}")


def _requirements(config: Path | None, extra: tuple[str, ...]) -> list[str]:
    """sandbox.requirements of a run config (default: the built-in pins), plus `extra`."""
    import yaml
    from pydantic import ValidationError

    from sandbox.requirements import RequirementError, parse_pins

    try:
        data = yaml.safe_load(config.read_text()) if config else {}
        section = (data or {}).get("sandbox") or {}
        base = SandboxConfig(**({"requirements": section["requirements"]} if "requirements" in section else {}))
        requirements = [*base.requirements, *extra]
        parse_pins(requirements)
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise click.ClickException(f"{config}: cannot read sandbox.requirements: {exc}") from None
    except ValidationError as exc:
        raise click.ClickException(f"{config}: sandbox.requirements: {exc.errors()[0]['msg']}") from None
    except RequirementError as exc:
        raise click.ClickException(str(exc)) from None
    return requirements


def _build_site(requirements: list[str]) -> Path:
    """The site for the process jail's default interpreter (the image builds its own copy)."""
    from sandbox import jails
    from sandbox.requirements import build_site, python_tag

    python = jails.default_python()
    return build_site(requirements, python_tag(python), log=lambda line: click.echo(line, err=True),
                      compile_with=python)
