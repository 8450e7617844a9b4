"""The `evolve` console command: one click group; each concern's commands live in their own
module of this package (run lifecycle, status, archive, problems, models, training, report,
multi-worker processes) and
are gathered here, so `evolve --help` lists everything.  The sandbox keeps its own group
(sandbox/cli.py), which only needs the sandbox package.
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
    # Each concern owns its commands (evolve/cli/<concern>.py); they are gathered here.
    from evolve.cli.archive import archive_group
    from evolve.cli.distributed import COMMANDS as distributed_commands
    from evolve.cli.model import model_group
    from evolve.cli.problems import problems_group
    from evolve.cli.report import report_command
    from evolve.cli.run import COMMANDS as run_commands
    from evolve.cli.status import status_command
    from evolve.cli.train import COMMANDS as train_commands
    from sandbox.cli import sandbox_group

    for command in (sandbox_group, problems_group, model_group, *run_commands, status_command,
                    archive_group, *train_commands, report_command, *distributed_commands):
        main.add_command(command)


_register()
