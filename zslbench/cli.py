"""The `zslbench` command line: a thin shell over the library (the click group, the commands of
zslbench.commands added to it, and `main`).

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback);
1 unexpected failure.
"""

from __future__ import annotations

import sys

import click

from zslbench.commands.data import data_group
from zslbench.commands.listing import list_cmd
from zslbench.commands.plot import plot_group
from zslbench.commands.replay import replay_cmd
from zslbench.commands.report import report_cmd
from zslbench.commands.run import run_cmd
from zslbench.commands.sweep import sweep_cmd
from zslbench.commands.table import table_cmd
from zslbench.commands.validate import validate_cmd
from zslbench.errors import ZSLBenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zslbench")
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help="Load a plugin module (repeatable; also $ZSLBENCH_PLUGINS and the zslbench.plugins "
    "entry points; docs/extending.md).",
)
def cli(plugins: tuple[str, ...]) -> None:
    """Reproduce 'Class Normalization for (Continual)? Generalized Zero-Shot Learning'."""
    from zslbench.tracks import load_plugins

    load_plugins(plugins)


# --- the commands (zslbench.commands) -----------------------------------------------------
cli.add_command(list_cmd)
cli.add_command(data_group)
cli.add_command(run_cmd)
cli.add_command(sweep_cmd)
cli.add_command(replay_cmd)
cli.add_command(validate_cmd)
cli.add_command(table_cmd)
cli.add_command(plot_group)
cli.add_command(report_cmd)


# --- entry point ---------------------------------------------------------------------------
INTERRUPTED = (
    "zslbench: interrupted; nothing partial was kept (runs count only once complete): "
    "run the same command again to finish"
)


def _exit_interrupted() -> None:
    from zslbench.checkpoints import kept
    from zslbench.interrupt import exit_interrupted

    saved = kept()
    if saved:  # a long run saved its state: the same command continues it
        click.echo(
            f"zslbench: interrupted; the run's state saved after its last saved epoch is kept in "
            f"{', '.join(map(str, saved))}: run the same command again to continue it",
            err=True,
        )
    else:
        click.echo(INTERRUPTED, err=True)
    exit_interrupted(130)


def _sigterm_as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    import signal
    import warnings

    if threading_is_main():
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    if argv is None:  # the process's own command line: set before any parallel operation, so
        from zslbench.process import start_process  # that the threads start flushing

        start_process()
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    try:
        cli.main(args=argv, prog_name="zslbench", standalone_mode=False)
    except click.exceptions.Abort:
        _exit_interrupted()
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx is not None else "zslbench"
        click.echo(f"{cmd}: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"zslbench: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ZSLBenchError as exc:
        click.echo(f"zslbench: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _exit_interrupted()
    sys.exit(0)


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    main()
