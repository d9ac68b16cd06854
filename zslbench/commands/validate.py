"""`zslbench validate --plugin MODULE`: import a plugin, build each of its models and methods on a
tiny input and check shapes, options and names, without training."""

from __future__ import annotations

import sys

import click


@click.command("validate")
@click.option(
    "--plugin",
    "modules",
    multiple=True,
    required=True,
    metavar="MODULE",
    help="The plugin module to check (repeatable).",
)
def validate_cmd(modules: tuple[str, ...]) -> None:
    """Check a plugin without training: print what it registers, or one line per problem
    (exit 2 on problems)."""
    from zslbench.plugins import PluginError, contract_problems, describe
    from zslbench.tracks import load_plugins

    failed = False
    for module in modules:
        try:
            info = load_plugins([module], entry_points=False, check=False)[0]
        except PluginError as exc:
            click.echo(f"zslbench: error: {exc}", err=True)
            failed = True
            continue
        origin = f"{info.distribution} {info.version}".strip() or "not installed"
        click.echo(
            f"plugin {module} ({origin}; source sha256 {info.source_sha256[:12]}, "
            f"{len(info.files)} source file{'s' if len(info.files) != 1 else ''}):"
        )
        for line in describe(module):
            click.echo(f"  {line}")
        if not describe(module):
            click.echo("  (registers nothing)")
        sys.stdout.flush()  # the description first, then its problems (stderr is not buffered)
        problems = contract_problems(module)
        for line in problems:
            click.echo(f"zslbench: error: plugin {module}: {line}", err=True)
        failed = failed or bool(problems)
    if failed:
        sys.exit(2)
