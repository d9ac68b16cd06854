"""The `zslbench` command line: a thin shell over the library.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback);
1 unexpected failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zslbench.errors import ZSLBenchError
from zslbench.sweep import sweep_options


def _fail(message: str) -> None:
    raise ZSLBenchError(message)


def _check_dataset_name(name: str, valid) -> None:
    if name not in valid:
        import difflib

        close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        _fail(f"--dataset: unknown dataset {name!r}{hint}; valid datasets: {', '.join(valid)}")


def _split_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zslbench")
def cli() -> None:
    """Reproduce 'Class Normalization for (Continual)? Generalized Zero-Shot Learning'."""


# --- list --------------------------------------------------------------------------------
@cli.command("list")
@click.argument("what", required=False,
                type=click.Choice(["models", "methods", "datasets", "profiles", "presets"]))
def list_cmd(what: str | None) -> None:
    """List the registered models, CZSL methods, datasets, profiles or presets."""
    from zslbench.config import PROFILES
    from zslbench.data.features.specs import DATASETS
    from zslbench.models import MODELS
    from zslbench.presets import DEFAULT_PRESET, PRESETS

    sections = {
        "models": [(n, MODELS.get(n).description) for n in MODELS],
        "datasets": [
            (n, f"{s.display}: {s.n_classes} classes ({s.n_seen} seen / {s.n_unseen} unseen), "
                f"{s.attr_dim} attributes, {s.n_images} images")
            for n, s in DATASETS.items()
        ],
        "profiles": [(p.name, p.description) for p in PROFILES.values()],
        "presets": [
            (p.name, ("(default) " if p.name == DEFAULT_PRESET else "") + p.description + "; sets "
             + " ".join(f"{k}={_flag(v)}" for k, v in p.gzsl.items()))
            for p in PRESETS.values()
        ],
    }
    try:
        from zslbench.train.czsl import CZSL_METHODS  # available once CZSL is installed

        sections["methods"] = [(n, CZSL_METHODS.get(n).description) for n in CZSL_METHODS]
    except ImportError:
        sections["methods"] = []
    for name in [what] if what else list(sections):
        click.echo(f"{name}:")
        if not sections[name]:
            click.echo("  (none)")
        for key, desc in sections[name]:
            click.echo(f"  {key:<12} {desc}")


# --- data ---------------------------------------------------------------------------------
@cli.group()
def data() -> None:
    """Check (and fetch) the xlsa17 data, the raw CUB/SUN images and the ResNet-18 checkpoint."""


@data.command("check")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder holding xlsa17/data/<DATASET>/, CUB_200_2011/, SUN/, resnet18-imagenet/ "
                   "(default: $ZSLBENCH_DATA or the user cache).")
@click.option("--dataset", "datasets", multiple=True,
              help="Dataset to check: an xlsa17 dataset, cub-images, sun-images or resnet18-imagenet "
                   "(repeatable; default: all found).")
def data_check(data_dir: Path | None, datasets: tuple[str, ...]) -> None:
    """Validate the xlsa17 files (and the raw-image data) and print one row per dataset."""
    from tabulate import tabulate

    from zslbench.data import DATASETS, default_data_dir
    from zslbench.data.images.check import IMAGE_CHECKS, check_image_data, found_image_data
    from zslbench.data.features.xlsa17 import check_all

    names: list[str] = []
    for item in datasets:
        names += _split_list(item)
    for name in names:
        _check_dataset_name(name, [*DATASETS, *IMAGE_CHECKS])
    image_names = [n for n in names if n in IMAGE_CHECKS]
    names = [n for n in names if n not in IMAGE_CHECKS]
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if not datasets:
        image_names = found_image_data(data_dir)
    results = check_all(data_dir, names or None) if names or not image_names else []
    if not results and not image_names:
        _fail(f"{data_dir}: no xlsa17 dataset folders found (expected {data_dir}/xlsa17/data/<SUN|CUB|AWA1|AWA2|APY>)")
    failed = False
    if results:
        rows = []
        for r in results:
            rows.append([
                r.dataset, r.vintage or "-", f"{_v(r.seen)}/{_v(r.unseen)}", _v(r.attributes),
                f"{_v(r.trainval)}/{_v(r.test_seen)}/{_v(r.test_unseen)}", r.status,
            ])
        click.echo(tabulate(rows, headers=["dataset", "vintage", "seen/unseen", "attributes",
                                           "trainval/test_seen/test_unseen", "status"]))
        failed = any(r.status == "fail" for r in results)
        for r in results:
            if r.status != "ok" and r.message:
                click.echo(f"{r.dataset}: {r.message}", err=True)
    if image_names:
        checks = [check_image_data(n, data_dir) for n in image_names]
        if results:
            click.echo()
        click.echo(tabulate(
            [[c.dataset, _v(c.images), _v(c.classes), _v(c.attributes), c.split, c.attr_source, c.status]
             for c in checks],
            headers=["dataset", "images", "classes", "attributes", "train/(val/)test", "attributes from",
                     "status"]))
        for c in checks:
            if c.status != "ok" and c.message:
                click.echo(f"{c.dataset}: {c.message}", err=True)
        failed = failed or any(c.status == "fail" for c in checks)
    if failed:
        sys.exit(2)


@data.command("fetch")
@click.option("--dataset", "dataset", default="xlsa17", show_default=True,
              type=click.Choice(["xlsa17", "cub-images", "sun-images", "resnet18-imagenet"]),
              help="What to fetch: the xlsa17 features, the raw CUB or SUN images, or the ImageNet "
                   "ResNet-18 checkpoint.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="The data folder (default: $ZSLBENCH_DATA or the user cache).")
@click.option("--url", "urls", multiple=True,
              help="Download from this address (a mirror) instead of the official one "
                   "(sun-images: two, the images archive then the attribute archive).")
@click.option("--from-zip", "from_zip", type=click.Path(path_type=Path), default=None,
              help="Use this xlsa17.zip (downloaded by hand) instead of downloading.")
@click.option("--from-archive", "from_archives", type=click.Path(path_type=Path), multiple=True,
              help="Use this archive (.tgz/.tar.gz; for resnet18-imagenet the .pth) instead of "
                   "downloading (repeatable: SUN has two).")
@click.option("--sha256", default=None, metavar="HEX", help="Expected SHA-256 of the xlsa17 archive.")
@click.option("--keep-zip", is_flag=True, help="Keep the downloaded archive(s) in <data-dir>/downloads/.")
@click.option("--retries", type=click.IntRange(min=0), default=5, show_default=True,
              help="Retries of a failed download (resumed where it stopped).")
@click.option("--retry-wait", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds before the first retry; doubled at each retry (at most 60).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Network timeout in seconds.")
def data_fetch(dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait,
               timeout) -> None:
    """Download the data (resumable), verify it, unpack and validate it atomically."""
    if dataset != "xlsa17":
        from zslbench.data.images.fetch import fetch_images

        if from_zip is not None:
            _fail("--from-zip is for xlsa17; use --from-archive")
        if sha256 is not None:
            _fail("--sha256 is for xlsa17 (the checkpoint is checked against the hash in its name)")
        result = fetch_images(dataset, data_dir, urls, from_archives, keep_archives=keep_zip,
                              retries=retries, backoff=retry_wait, timeout=timeout, log=click.echo)
        for note in result.notes:
            click.echo(f"warning: {note}", err=True)
        return
    from zslbench.data.features.fetch import OFFICIAL_URL, fetch_xlsa17

    if len(urls) > 1:
        _fail("--url: xlsa17 takes one address")
    url = urls[0] if urls else None
    if from_archives:
        if len(from_archives) > 1 or from_zip is not None:
            _fail("--from-archive: xlsa17 takes one zip")
        from_zip = from_archives[0]
    if url is not None and from_zip is not None:
        _fail("--url and --from-zip exclude each other")
    result = fetch_xlsa17(data_dir, url or OFFICIAL_URL, from_zip, sha256, keep_zip=keep_zip,
                          retries=retries, backoff=retry_wait, timeout=timeout, log=click.echo)
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)


def _flag(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _v(value) -> str:
    return "-" if value is None else str(value)


# --- run ----------------------------------------------------------------------------------
@cli.command("run")
@click.option("--model", help="GZSL model (see `zslbench list models`).")
@click.option("--dataset", help="Dataset: sun, cub, awa1, awa2, apy.")
@click.option("--seed", type=int, default=None, help="Seed (default: the profile's first seed).")
@click.option("--profile", default="paper", show_default=True, help="paper or quick.")
@click.option("--preset", default=None,
              help="colab (default: the notebook) or code (the authors' trainer); see `zslbench list presets`.")
@click.option("--data", "source", type=click.Choice(["auto", "xlsa17", "images", "synthetic"]), default="auto",
              show_default=True, help="Data source; auto = the real data where found (xlsa17; raw images "
                                      "for the CZSL image track), else synthetic.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="xlsa17 data folder.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ZSLBENCH_RESULTS or ./results).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field (repeatable).")
@click.option("--force", is_flag=True, help="Retrain even when the run is already done.")
@click.option("--from-record", "from_record", type=click.Path(path_type=Path), default=None,
              help="Rerun the run a record.json describes and report whether the metrics match.")
@click.option("--atol", multiple=True, metavar="[METRIC=]X",
              help="--from-record: absolute tolerance, in each metric's unit (default: 1.5 for percent "
                   "metrics, 0.02 for forgetting; repeatable).")
@click.option("--rtol", multiple=True, metavar="[METRIC=]X",
              help="--from-record: relative tolerance (default 0; repeatable).")
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
    from zslbench.config import GZSLConfig, get_profile, make_gzsl_config, parse_overrides
    from zslbench.data import DATASETS
    from zslbench.models import MODELS
    from zslbench.presets import get_preset, with_preset
    from zslbench.runner import run_gzsl

    get_preset(preset)  # an unknown name fails first
    if from_record is not None:
        ctx = click.get_current_context()
        clashing = [f"--{name.replace('_', '-')}" for name in ("model", "dataset", "seed", "sets", "force", "czsl", "method",
                                                                "preset", "track")
                    if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        if clashing or sweep.get("all_runs"):
            _fail(f"--from-record takes everything from the record; drop {', '.join(clashing) or '--all'}")
        _rerun(from_record, data_dir, device, results, atol, rtol)
        return
    if atol or rtol:
        _fail(f"{'--atol' if atol else '--rtol'} needs --from-record")
    if sweep.get("all_runs"):
        from zslbench.sweep import run_all_cli

        if czsl or method or track != "features":
            _fail("run --all: --czsl/--method/--track select a single run; use --only czsl, --methods and --tracks")
        _check_writable(results)
        return run_all_cli(profile=profile, source=source, data_dir=data_dir, device=device, results=results,
                           sets=sets, force=force, single={"model": model, "dataset": dataset, "seed": seed},
                           preset=preset, **sweep)
    from zslbench.sweep import reject_sweep_options

    reject_sweep_options(sweep)
    if track != "features" and not czsl:
        _fail("run: --track is for CZSL runs (add --czsl)")
    if czsl:
        if model:
            _fail("run: --model is for GZSL runs; a --czsl run takes --method")
        _run_czsl_cmd(method, classnorm, dataset, seed, profile, preset, source, data_dir, device, results,
                      sets, force, track)
        return
    if source == "images":
        _fail("run: --data images is for the CZSL image track (--czsl --track images)")
    if method:
        _fail("run: --method needs --czsl (GZSL runs take --model)")
    if not model:
        _fail("run: --model is required (see `zslbench list models`)")
    if not dataset:
        _fail(f"run: --dataset is required; valid datasets: {', '.join(DATASETS)}")
    MODELS.get(model)
    _check_dataset_name(dataset, DATASETS)
    prof = get_profile(profile)
    explicit = parse_overrides(GZSLConfig, sets)
    overrides = with_preset("gzsl", preset, explicit)
    cfg = make_gzsl_config(profile, overrides)  # validate values before any work
    _refuse_inactive("gzsl", model, dataset, source, data_dir, cfg, explicit)
    from zslbench.devices import check_cuda_tf32

    check_cuda_tf32(device, cfg.cuda_tf32)
    seed = prof.seeds[0] if seed is None else seed
    _check_writable(results)

    _warn_if_synthetic(dataset, source, data_dir)
    outcome = run_gzsl(model, dataset, seed=seed, profile=profile, source=source, data_dir=data_dir,
                       device=device, results=results, overrides=overrides, force=force)
    rec = outcome.record
    m = rec["metrics"]
    state = "already done (use --force to retrain)" if outcome.skipped else f"trained in {rec['train_seconds']:.1f}s"
    click.echo(f"{model} on {dataset} [{rec['data_source']}] seed {seed}: {state}")
    click.echo("  " + "  ".join(f"{k}={m[k]:.2f}" for k in ("S", "U", "H", "ZSL", "AUSUC")))
    click.echo(f"  record: {outcome.path / 'record.json'}")


def _refuse_inactive(kind, name, dataset, source, data_dir, cfg, explicit, classnorm=True) -> None:
    """Exit 2 for an explicit --set of an option that does not act on this run."""
    from zslbench.applicability import czsl_traits, gzsl_traits, refuse_inactive
    from zslbench.data import resolve_source

    src = resolve_source(dataset, source, data_dir)
    traits = gzsl_traits(name, dataset, src) if kind == "gzsl" else czsl_traits(name, classnorm, dataset, src)
    refuse_inactive(kind, traits, cfg, explicit)


def _rerun(path: Path, data_dir: Path | None, device: str, results: Path | None,
           atol: tuple[str, ...] = (), rtol: tuple[str, ...] = ()) -> None:
    import shutil
    import tempfile

    from zslbench.replay import report_lines
    from zslbench.runner import rerun_record

    if results is not None:
        _check_writable(results)
    target = Path(results) if results is not None else Path(tempfile.mkdtemp(prefix="zslbench-rerun-"))
    try:
        report = rerun_record(path, target, data_dir=data_dir, device=device, atol=atol, rtol=rtol)
    finally:
        if results is None:
            shutil.rmtree(target, ignore_errors=True)
    rec = report.original
    name = rec.get("model") or f"CZSL {rec.get('method')}{'+cn' if rec.get('classnorm') else ''}"
    click.echo(f"rerun of {rec['run_id']} ({name} on {rec['dataset']} [{rec['data_source']}], seed {rec['seed']})")
    out, err = report_lines(report.comparison)
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(f"  {line}", err=True)
    if report.comparison.exit_code:
        sys.exit(report.comparison.exit_code)


def _run_czsl_cmd(method, classnorm, dataset, seed, profile, preset, source, data_dir, device, results,
                  sets, force, track="features") -> None:
    """`zslbench run --czsl [--track features|images]`: one continual-ZSL run."""
    from zslbench.config import CZSL_DATASETS, get_profile, parse_overrides
    from zslbench.czsl_runner import check_czsl_dataset
    from zslbench.tracks import execute_run, get_track
    from zslbench.train.czsl import CZSL_METHODS

    if not method:
        _fail(f"run --czsl: --method is required; valid methods: {', '.join(CZSL_METHODS)}")
    if not dataset:
        _fail(f"run --czsl: --dataset is required; valid datasets: {', '.join(CZSL_DATASETS)}")
    CZSL_METHODS.get(method)
    check_czsl_dataset(dataset)
    from zslbench.applicability import czsl_traits, refuse_inactive
    from zslbench.presets import with_preset

    runner = get_track(f"czsl-{track}")
    if track == "features" and source == "images":
        _fail("run --czsl: --data images is for the image track (--track images)")
    if track == "images" and source == "xlsa17":
        _fail("run --czsl --track images: --data xlsa17 holds features, not images (use auto, images or synthetic)")
    prof = get_profile(profile)
    explicit = parse_overrides(runner.config_cls, sets)
    overrides = with_preset("czsl", preset, explicit)
    cfg = runner.make_config(profile, overrides)  # validate values before any work
    src = runner.resolve_source(dataset, source, data_dir)
    refuse_inactive(runner.table, czsl_traits(method, classnorm, dataset, src), cfg, explicit)
    from zslbench.devices import check_cuda_tf32

    check_cuda_tf32(device, cfg.cuda_tf32)
    seed = prof.seeds[0] if seed is None else seed
    _check_writable(results)
    if track == "images":
        runner.extra_identity(cfg, data_dir)  # e.g. a missing checkpoint: one line, before any work
        _warn_if_synthetic_images(dataset, source, data_dir)
    else:
        _warn_if_synthetic(dataset, source, data_dir)
    outcome = execute_run(runner, method, dataset, seed=seed, classnorm=classnorm, profile=profile, source=source,
                          data_dir=data_dir, device=device, results=results, overrides=overrides, force=force)
    rec = outcome.record
    m = rec["metrics"]
    name = f"{method}{'+cn' if classnorm else ''}"
    state = "already done (use --force to retrain)" if outcome.skipped else f"trained in {rec['train_seconds']:.1f}s"
    click.echo(f"CZSL {name} on {dataset} [{rec['data_source']}, {track} track] seed {seed}: {state}")
    click.echo(f"  mAUC={m['mAUC']:.2f}  mH={m['mH']:.2f}  mJA={m['mJA']:.2f}  forgetting={m['forgetting']:.3f}")
    if track == "features":
        click.echo("  (features track: not comparable with the paper's image-track CZSL table)")
    elif rec["data_source"] != "images":
        click.echo("  (image track on SYNTHETIC images: the pipeline works; the numbers mean nothing)")
    click.echo(f"  record: {outcome.path / 'record.json'}")


def _warn_if_synthetic_images(dataset: str, source: str, data_dir: Path | None) -> None:
    """The image track's `--data auto` without the raw images: say so on stderr."""
    if source != "auto":
        return
    from zslbench.data.images import resolve_image_source

    if resolve_image_source(dataset, "auto", data_dir) == "synthetic":
        click.echo(f"warning: no raw {dataset} images found; using SYNTHETIC images "
                   f"(`zslbench data fetch --dataset {dataset}-images`, or pass --data-dir)", err=True)


def _warn_if_synthetic(dataset: str, source: str, data_dir: Path | None) -> None:
    """`--data auto` without the real files falls back to synthetic data: say so on stderr."""
    if source != "auto":
        return
    from zslbench.data import resolve_source

    if resolve_source(dataset, "auto", data_dir) == "synthetic":
        click.echo(f"warning: no xlsa17 files for {dataset} found; using SYNTHETIC data "
                   "(pass --data-dir or set $ZSLBENCH_DATA for the real data)", err=True)


def _check_writable(results: Path | None) -> None:
    from zslbench.store import default_results_dir

    target = Path(results) if results is not None else default_results_dir()
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        _fail(f"--results: {probe} is a file, not a folder")
    import os

    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        _fail(f"--results: {probe} is not writable")


# --- table and plot -------------------------------------------------------------------------
def _results_dir(results: Path | None) -> Path:
    from zslbench.store import default_results_dir

    target = Path(results) if results is not None else default_results_dir()
    if not target.exists():
        _fail(f"--results: {target} does not exist (run `zslbench run` first, or pass --results DIR)")
    if not target.is_dir():
        _fail(f"--results: {target} is not a folder")
    return target


def _echo_warnings(caught) -> None:
    for w in caught:
        click.echo(f"zslbench: warning: {w.message}", err=True)


@cli.command("table")
@click.argument("kind", type=click.Choice(["gzsl", "czsl"]))
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ZSLBENCH_RESULTS or ./results).")
@click.option("--format", "formats", default="csv,md,tex", show_default=True,
              help="Comma-separated output formats: csv, md, tex.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: <results>/tables).")
def table_cmd(kind: str, results: Path | None, formats: str, out: Path | None) -> None:
    """Build the GZSL or CZSL table from the run records, beside the paper's numbers."""
    import warnings

    from zslbench.report.tables import build_table, parse_formats, write_table

    fmts = parse_formats(formats)
    results = _results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = build_table(kind, results)
    _echo_warnings(caught)
    if table.empty:
        click.echo(f"no {kind.upper()} run records under {results / 'runs'}: nothing to tabulate")
        return
    paths = write_table(table, out if out is not None else results / "tables", fmts)
    if "md" in fmts:
        click.echo(table.to_markdown())
    for path in paths:
        click.echo(f"wrote {path}")


@cli.group("plot")
def plot_group() -> None:
    """Figures from the run records."""


@plot_group.command("variance")
@click.option("--dataset", default="all", show_default=True,
              help="Dataset to plot (sun, cub, awa1, awa2, apy), or all = every dataset with traces.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ZSLBENCH_RESULTS or ./results).")
@click.option("--stat", default="pre_var", show_default=True,
              help="Traced statistic: pre_var, pre_std, post_var, post_std, hidden_var.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: <results>/plots).")
def plot_variance_cmd(dataset: str, results: Path | None, stat: str, out: Path | None) -> None:
    """Logit variance per training iteration, one line per model (mean over seeds, min-max band)."""
    import warnings

    from zslbench.data import DATASETS
    from zslbench.report.plots import STATS, plot_variance

    if stat not in STATS:
        _fail(f"--stat: unknown statistic {stat!r}; valid: {', '.join(STATS)}")
    if dataset != "all" and dataset not in DATASETS:
        _fail(f"--dataset: unknown dataset {dataset!r}; valid: all, {', '.join(DATASETS)}")
    results = _results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = plot_variance(results, None if dataset == "all" else dataset, stat=stat,
                                out_dir=out if out is not None else results / "plots")
    _echo_warnings(caught)
    if not written:
        if dataset != "all":
            _fail(f"--dataset: no GZSL run with a trace.csv for {dataset} under {results / 'runs'}")
        click.echo(f"no GZSL run with a trace.csv under {results / 'runs'}: nothing to plot")
    for path in written:
        click.echo(f"wrote {path}")


@cli.command("report")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ZSLBENCH_RESULTS or ./results).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: <results>/report).")
def report_cmd(results: Path | None, out: Path | None) -> None:
    """One page (index.html, report.md) of the results, the paper's claims checked, and the
    effect of each option variant; static, opens from disk."""
    import warnings

    from zslbench.report.page import write_report

    results = _results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_report(results, out)
    _echo_warnings(caught)
    click.echo(f"wrote {files.index}")
    click.echo(f"wrote {files.markdown} and {len(files.images)} image(s) in {files.index.parent / 'plots'}")


# --- entry point ---------------------------------------------------------------------------
INTERRUPTED = (
    "zslbench: interrupted; nothing partial was kept (runs count only once complete): "
    "run the same command again to finish"
)


def _exit_interrupted() -> None:
    from zslbench.interrupt import exit_interrupted

    click.echo(INTERRUPTED, err=True)
    exit_interrupted(130)


def _sigterm_as_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    import signal

    import warnings

    if threading_is_main():
        signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
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
