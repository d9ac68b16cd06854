"""`zslbench run`: one run of a track (GZSL by default, --czsl [--track images] for CZSL);
with --all a sweep (zslbench.commands.sweep), with --from-record a replay
(zslbench.commands.replay)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from zslbench.commands.common import check_writable, fail, training_options
from zslbench.commands.replay import ATOL_HELP, RTOL_HELP, replay
from zslbench.commands.sweep import reject_sweep_options, run_all, sweep_options

if TYPE_CHECKING:
    from zslbench.tracks import RunOutcome


@click.command("run")
@click.option("--model", help="GZSL model (see `zslbench list models`).")
@click.option("--dataset", help="Dataset: sun, cub, awa1, awa2, apy.")
@click.option("--seed", type=int, default=None, help="Seed (default: the profile's first seed).")
@training_options
@click.option(
    "--from-record",
    "from_record",
    type=click.Path(path_type=Path),
    default=None,
    help="Rerun the run a record.json describes and report whether the metrics match (the same as `zslbench replay`).",
)
@click.option("--atol", multiple=True, metavar="[METRIC=]X", help="--from-record: " + ATOL_HELP)
@click.option("--rtol", multiple=True, metavar="[METRIC=]X", help="--from-record: " + RTOL_HELP)
@click.option("--czsl", is_flag=True, help="A continual-ZSL run of --method (see --track).")
@click.option(
    "--track",
    type=click.Choice(["features", "images"]),
    default="features",
    show_default=True,
    help="CZSL: fixed features, or a ResNet-18 fine-tuned on raw images (the paper's protocol).",
)
@click.option("--method", help="CZSL method with --czsl (see `zslbench list methods`).")
@click.option("--cn/--no-cn", "classnorm", default=True, show_default=True, help="CZSL: with or without ClassNorm.")
@sweep_options
def run_cmd(
    model,
    dataset,
    seed,
    profile,
    preset,
    source,
    data_dir,
    device,
    results,
    sets,
    force,
    log,
    from_record,
    atol,
    rtol,
    czsl,
    track,
    method,
    classnorm,
    **sweep,
) -> None:
    """Train and evaluate one run and write its record; with --all, run the whole grid as a
    resumable sweep (see docs/sweeps.md)."""
    from zslbench.presets import get_preset

    get_preset(preset)  # an unknown name fails first
    if from_record is not None:
        ctx = click.get_current_context()
        clashing = [
            f"--{name.replace('_', '-')}"
            for name in ("model", "dataset", "seed", "sets", "force", "czsl", "method", "preset", "track", "log")
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        ]
        if clashing or sweep.get("all_runs"):
            fail(f"--from-record takes everything from the record; drop {', '.join(clashing) or '--all'}")
        replay(from_record, data_dir, device, results, atol, rtol)
        return
    if atol or rtol:
        fail(f"{'--atol' if atol else '--rtol'} needs --from-record")
    if sweep.pop("all_runs", False):
        if czsl or method or track != "features":
            fail("run --all: --czsl/--method/--track select a single run; use --only czsl, --methods and --tracks")
        check_writable(results)
        return run_all(
            profile=profile,
            source=source,
            data_dir=data_dir,
            device=device,
            results=results,
            sets=sets,
            force=force,
            single={"model": model, "dataset": dataset, "seed": seed},
            preset=preset,
            log=log,
            **sweep,
        )
    reject_sweep_options(sweep)
    if track != "features" and not czsl:
        fail("run: --track is for CZSL runs (add --czsl)")
    if czsl:
        if model:
            fail("run: --model is for GZSL runs; a --czsl run takes --method")
        run_czsl(
            method,
            classnorm,
            dataset,
            seed,
            profile,
            preset,
            source,
            data_dir,
            device,
            results,
            sets,
            force,
            track,
            log,
        )
        return
    run_gzsl(model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force, method, log)


def run_gzsl(
    model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force, method=None, log=()
) -> None:
    """`zslbench run --model M --dataset D`: one GZSL run."""
    from zslbench.library.runs import gzsl_run

    outcome = gzsl_run(
        model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force, method, loggers=log
    )
    rec = outcome.record
    click.echo(f"{model} on {dataset} [{rec['data_source']}] seed {rec['seed']}: {_state(outcome)}")
    click.echo(summary_line(rec["metrics"], "gzsl"))
    click.echo(f"  record: {outcome.path / 'record.json'}")


def _state(outcome: RunOutcome) -> str:
    """What `zslbench run` did with the run: trained it (in how long) or found it done."""
    if outcome.skipped:
        return "already done (use --force to retrain)"
    return f"trained in {outcome.record['train_seconds']:.1f}s"


def summary_line(metrics: dict, track: str) -> str:
    """The metrics `zslbench run` prints after a run of `track` (gzsl, czsl), each with its digits."""
    from zslbench.metrics.registry import METRICS

    shown = [k for k in METRICS.summary(track) if k in metrics]
    return "  " + "  ".join(f"{k}={metrics[k]:.{METRICS.echo_digits(k)}f}" for k in shown)


def run_czsl(
    method,
    classnorm,
    dataset,
    seed,
    profile,
    preset,
    source,
    data_dir,
    device,
    results,
    sets,
    force,
    track_name="features",
    log=(),
) -> None:
    """`zslbench run --czsl [--track features|images]`: one continual-ZSL run."""
    from zslbench.library.runs import czsl_run

    outcome = czsl_run(
        method,
        classnorm,
        dataset,
        seed,
        profile,
        preset,
        source,
        data_dir,
        device,
        results,
        sets,
        force,
        track_name,
        loggers=log,
    )
    rec = outcome.record
    name = f"{method}{'+cn' if classnorm else ''}"
    where = f"[{rec['data_source']}, {track_name} track]"
    click.echo(f"CZSL {name} on {dataset} {where} seed {rec['seed']}: {_state(outcome)}")
    click.echo(summary_line(rec["metrics"], "czsl"))
    if track_name == "features":
        click.echo("  (features track: not comparable with the paper's image-track CZSL table)")
    elif rec["data_source"] != "images":
        click.echo("  (image track on SYNTHETIC images: the pipeline works; the numbers mean nothing)")
    click.echo(f"  record: {outcome.path / 'record.json'}")
