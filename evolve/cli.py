"""The `evolve` console command: one click group, one subgroup per concern.

Subgroups register themselves here by import so that `evolve --help` lists everything and each
concern's commands live next to its code.
"""

from __future__ import annotations

import click


class _OneLineErrors(click.Group):
    """Usage errors (a bad option value, a missing argument) as one line, like every other
    error: `Error: evolve CMD: what is wrong (see --help)`, exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            err = click.ClickException(f"{where}: {' '.join(exc.format_message().split())} (see --help)")
            err.exit_code = exc.exit_code
            raise err from None


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vpo-evolve")
def main() -> None:
    """vpo-evolve: program discovery with MAP-Elites islands and a VPO-trained mutator."""


def _register() -> None:
    # Each concern owns its commands next to its code; they are gathered here.
    from sandbox.cli import sandbox_group

    main.add_command(sandbox_group)

    from evolve.problems_cli import problems_group

    main.add_command(problems_group)

    from evolve.model_cli import model_group

    main.add_command(model_group)

    from evolve.archive_cli import archive_group
    from evolve.run_cli import COMMANDS as run_commands

    for command in (*run_commands, archive_group):
        main.add_command(command)

    from evolve.train_cli import COMMANDS as train_commands

    for command in train_commands:
        main.add_command(command)

    from evolve.report.cli import report_command; main.add_command(report_command)  # noqa: E702
    from evolve.distributed.cli import COMMANDS as distributed; [main.add_command(c) for c in distributed]  # noqa: E702


_register()
