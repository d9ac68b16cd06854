"""`zslbench replay RECORD` (also spelled `zslbench run --from-record RECORD`): rerun the run a
record describes and say whether the metrics match."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zslbench.commands.common import check_writable
from zslbench.errors import one_line

ATOL_HELP = (
    "absolute tolerance, in each metric's unit (default: 1.5 for percent metrics, 0.02 for forgetting; repeatable)."
)
RTOL_HELP = "relative tolerance (default 0; repeatable)."


def replay(
    path: Path,
    data_dir: Path | None,
    device: str,
    results: Path | None,
    atol: tuple[str, ...] = (),
    rtol: tuple[str, ...] = (),
) -> None:
    """Rerun, print the comparison, exit with its code (0 match, 1 differs)."""
    import shutil
    import tempfile

    from zslbench.replay import report_lines, rerun_record

    if results is not None:
        check_writable(results)
    target = Path(results) if results is not None else Path(tempfile.mkdtemp(prefix="zslbench-rerun-"))
    try:
        report = rerun_record(path, target, data_dir=data_dir, device=device, atol=atol, rtol=rtol)
    finally:
        if results is None:
            shutil.rmtree(target, ignore_errors=True)
    rec = report.original
    name = rec.get("model") or f"CZSL {rec.get('method')}{'+cn' if rec.get('classnorm') else ''}"
    # the record passed zslbench.schema (one-line names); one_line() keeps this line one line regardless
    click.echo(
        one_line(f"rerun of {rec['run_id']} ({name} on {rec['dataset']} [{rec['data_source']}], seed {rec['seed']})")
    )
    out, err = report_lines(report.comparison)
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(f"  {line}", err=True)
    if report.comparison.exit_code:
        sys.exit(report.comparison.exit_code)


@click.command("replay")
@click.argument("record", type=click.Path(path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="xlsa17 data folder.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the rerun's record here (default: a temporary folder, removed afterwards).",
)
@click.option("--atol", multiple=True, metavar="[METRIC=]X", help=ATOL_HELP[0].upper() + ATOL_HELP[1:])
@click.option("--rtol", multiple=True, metavar="[METRIC=]X", help=RTOL_HELP[0].upper() + RTOL_HELP[1:])
def replay_cmd(record, data_dir, device, results, atol, rtol) -> None:
    """Rerun the run a record.json describes and report whether the metrics match (the same as
    `zslbench run --from-record RECORD`)."""
    replay(record, data_dir, device, results, atol, rtol)
