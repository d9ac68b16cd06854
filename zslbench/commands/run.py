"""`zslbench run`: one run of a track (GZSL by default, --czsl [--track images] for CZSL);
with --all a sweep (zslbench.commands.sweep), with --from-record a replay
(zslbench.commands.replay)."""

from __future__ import annotations

from pathlib import Path

import click

from zslbench.commands.common import (
    check_dataset_name, check_writable, fail, run_options, warn_if_synthetic, warn_if_synthetic_images,
)
from zslbench.commands.replay import ATOL_HELP, RTOL_HELP, replay
from zslbench.commands.sweep import reject_sweep_options, run_all, sweep_options


@click.command("run")
@click.option("--model", help="GZSL model (see `zslbench list models`).")
@click.option("--dataset", help="Dataset: sun, cub, awa1, awa2, apy.")
@click.option("--seed", type=int, default=None, help="Seed (default: the profile's first seed).")
@run_options
@click.option("--from-record", "from_record", type=click.Path(path_type=Path), default=None,
              help="Rerun the run a record.json describes and report whether the metrics match "
                   "(the same as `zslbench replay`).")
@click.option("--atol", multiple=True, metavar="[METRIC=]X", help="--from-record: " + ATOL_HELP)
@click.option("--rtol", multiple=True, metavar="[METRIC=]X", help="--from-record: " + RTOL_HELP)
@click.option("--czsl", is_flag=True, help="A continual-ZSL run of --method (see --track).")
@click.option("--track", type=click.Choice(["features", "images"]), default="features", show_default=True,
              help="CZSL: fixed features, or a ResNet-18 fine-tuned on raw images (the paper's protocol).")
@click.option("--method", help="CZSL method with --czsl (see `zslbench list methods`).")
@click.option("--cn/--no-cn", "classnorm", default=True, show_default=True,
              help="CZSL: with or without ClassNorm.")
@sweep_options
def run_cmd(model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force, from_record,
            atol, rtol, czsl, track, method, classnorm, **sweep) -> None:
    """Train and evaluate one run and write its record; with --all, run the whole grid as a
    resumable sweep (see docs/sweeps.md)."""
    from zslbench.presets import get_preset

    get_preset(preset)  # an unknown name fails first
    if from_record is not None:
        ctx = click.get_current_context()
        clashing = [f"--{name.replace('_', '-')}" for name in ("model", "dataset", "seed", "sets", "force", "czsl",
                                                                "method", "preset", "track")
                    if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
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
        return run_all(profile=profile, source=source, data_dir=data_dir, device=device, results=results,
                       sets=sets, force=force, single={"model": model, "dataset": dataset, "seed": seed},
                       preset=preset, **sweep)
    reject_sweep_options(sweep)
    if track != "features" and not czsl:
        fail("run: --track is for CZSL runs (add --czsl)")
    if czsl:
        if model:
            fail("run: --model is for GZSL runs; a --czsl run takes --method")
        run_czsl(method, classnorm, dataset, seed, profile, preset, source, data_dir, device, results,
                 sets, force, track)
        return
    run_gzsl(model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force, method)


def prepare_run(track, name, classnorm, dataset, seed, profile, preset, source, data_dir, device, results, sets):
    """(overrides, config, seed) of one run, every check done before any work: the values of
    --set and the preset, options that do not act on the run (exit 2), cuda_tf32 on a CPU,
    flush_denormal=true on CUDA, a results folder that cannot be written."""
    from zslbench.applicability import refuse_inactive
    from zslbench.config import get_profile
    from zslbench.devices import check_run_options, for_device

    prof = get_profile(profile)
    explicit = track.parse_run_sets(sets, name)
    overrides = for_device(device, track.with_preset(preset, explicit), track.config_fields())
    cfg = track.make_config(profile, overrides)  # validate values before any work
    src = track.resolve_source(dataset, source, data_dir)
    explicit = [k for k in explicit if "." not in k]  # a plugin's own options act on its runs
    refuse_inactive(track.applicability_table, track.traits(name, classnorm, dataset, src), cfg, explicit)
    check_run_options(device, cfg)
    seed = prof.seeds[0] if seed is None else seed
    check_writable(results)
    return overrides, cfg, seed


def run_gzsl(model, dataset, seed, profile, preset, source, data_dir, device, results, sets, force,
             method=None) -> None:
    """`zslbench run --model M --dataset D`: one GZSL run."""
    from zslbench.models import MODELS
    from zslbench.tracks import execute_run, get_track

    DATASETS = get_track("gzsl").datasets()  # the xlsa17 ones and those of plugins

    if source == "images":
        fail("run: --data images is for the CZSL image track (--czsl --track images)")
    if method:
        fail("run: --method needs --czsl (GZSL runs take --model)")
    if not model:
        fail("run: --model is required (see `zslbench list models`)")
    if not dataset:
        fail(f"run: --dataset is required; valid datasets: {', '.join(DATASETS)}")
    MODELS.get(model)
    check_dataset_name(dataset, DATASETS)
    track = get_track("gzsl")
    overrides, cfg, seed = prepare_run(track, model, None, dataset, seed, profile, preset, source, data_dir,
                                       device, results, sets)

    warn_if_synthetic(dataset, source, data_dir)
    outcome = execute_run(track, model, dataset, seed=seed, profile=profile, source=source, data_dir=data_dir,
                          device=device, results=results, overrides=overrides, force=force)
    rec = outcome.record
    m = rec["metrics"]
    state = "already done (use --force to retrain)" if outcome.skipped else f"trained in {rec['train_seconds']:.1f}s"
    click.echo(f"{model} on {dataset} [{rec['data_source']}] seed {seed}: {state}")
    click.echo("  " + "  ".join(f"{k}={m[k]:.2f}" for k in ("S", "U", "H", "ZSL", "AUSUC")))
    click.echo(f"  record: {outcome.path / 'record.json'}")


def run_czsl(method, classnorm, dataset, seed, profile, preset, source, data_dir, device, results,
             sets, force, track_name="features") -> None:
    """`zslbench run --czsl [--track features|images]`: one continual-ZSL run."""
    from zslbench.tracks import execute_run, get_track
    from zslbench.tracks.czsl import CZSL_DATASETS, check_czsl_dataset
    from zslbench.train.czsl import CZSL_METHODS

    if not method:
        fail(f"run --czsl: --method is required; valid methods: {', '.join(CZSL_METHODS)}")
    if not dataset:
        fail(f"run --czsl: --dataset is required; valid datasets: {', '.join(CZSL_DATASETS)}")
    CZSL_METHODS.get(method)
    check_czsl_dataset(dataset)
    track = get_track(f"czsl-{track_name}")
    if track_name == "features" and source == "images":
        fail("run --czsl: --data images is for the image track (--track images)")
    if track_name == "images" and source == "xlsa17":
        fail("run --czsl --track images: --data xlsa17 holds features, not images (use auto, images or synthetic)")
    overrides, cfg, seed = prepare_run(track, method, classnorm, dataset, seed, profile, preset, source, data_dir,
                                       device, results, sets)
    if track_name == "images":
        track.extra_identity(cfg, data_dir)  # e.g. a missing checkpoint: one line, before any work
        warn_if_synthetic_images(dataset, source, data_dir)
    else:
        warn_if_synthetic(dataset, source, data_dir)
    outcome = execute_run(track, method, dataset, seed=seed, classnorm=classnorm, profile=profile, source=source,
                          data_dir=data_dir, device=device, results=results, overrides=overrides, force=force)
    rec = outcome.record
    m = rec["metrics"]
    name = f"{method}{'+cn' if classnorm else ''}"
    state = "already done (use --force to retrain)" if outcome.skipped else f"trained in {rec['train_seconds']:.1f}s"
    click.echo(f"CZSL {name} on {dataset} [{rec['data_source']}, {track_name} track] seed {seed}: {state}")
    click.echo(f"  mAUC={m['mAUC']:.2f}  mH={m['mH']:.2f}  mJA={m['mJA']:.2f}  forgetting={m['forgetting']:.3f}")
    if track_name == "features":
        click.echo("  (features track: not comparable with the paper's image-track CZSL table)")
    elif rec["data_source"] != "images":
        click.echo("  (image track on SYNTHETIC images: the pipeline works; the numbers mean nothing)")
    click.echo(f"  record: {outcome.path / 'record.json'}")
