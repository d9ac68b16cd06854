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


def _split_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zslbench")
def cli() -> None:
    """Reproduce 'Class Normalization for (Continual)? Generalized Zero-Shot Learning'."""


# --- list --------------------------------------------------------------------------------
@cli.command("list")
@click.argument("what", required=False, type=click.Choice(["models", "methods", "datasets", "profiles"]))
def list_cmd(what: str | None) -> None:
    """List the registered models, CZSL methods, datasets or profiles."""
    from zslbench.config import PROFILES
    from zslbench.data.specs import DATASETS
    from zslbench.models import MODELS

    sections = {
        "models": [(n, MODELS.get(n).description) for n in MODELS],
        "datasets": [
            (n, f"{s.display}: {s.n_classes} classes ({s.n_seen} seen / {s.n_unseen} unseen), "
                f"{s.attr_dim} attributes, {s.n_images} images")
            for n, s in DATASETS.items()
        ],
        "profiles": [(p.name, p.description) for p in PROFILES.values()],
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
    """Check (and fetch) the xlsa17 data."""


@data.command("check")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder holding xlsa17/data/<DATASET>/ (default: $ZSLBENCH_DATA or the user cache).")
@click.option("--dataset", "datasets", multiple=True, help="Dataset to check (repeatable; default: all found).")
def data_check(data_dir: Path | None, datasets: tuple[str, ...]) -> None:
    """Validate the xlsa17 files and print one row per dataset."""
    from tabulate import tabulate

    from zslbench.data import DATASETS, default_data_dir
    from zslbench.data.xlsa17 import check_all

    names: list[str] = []
    for item in datasets:
        names += _split_list(item)
    for name in names:
        if name not in DATASETS:
            _fail(f"--dataset: unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    data_dir = data_dir if data_dir is not None else default_data_dir()
    results = check_all(data_dir, names or None)
    if not results:
        _fail(f"{data_dir}: no xlsa17 dataset folders found (expected {data_dir}/xlsa17/data/<SUN|CUB|AWA1|AWA2|APY>)")
    rows = []
    for r in results:
        rows.append([
            r.dataset, r.vintage or "-", f"{_v(r.seen)}/{_v(r.unseen)}", _v(r.attributes),
            f"{_v(r.trainval)}/{_v(r.test_seen)}/{_v(r.test_unseen)}", r.status,
        ])
    click.echo(tabulate(rows, headers=["dataset", "vintage", "seen/unseen", "attributes",
                                       "trainval/test_seen/test_unseen", "status"]))
    failed = [r for r in results if r.status == "fail"]
    for r in results:
        if r.status != "ok" and r.message:
            click.echo(f"{r.dataset}: {r.message}", err=True)
    if failed:
        sys.exit(2)


def _v(value) -> str:
    return "-" if value is None else str(value)


# --- run ----------------------------------------------------------------------------------
@cli.command("run")
@click.option("--model", help="GZSL model (see `zslbench list models`).")
@click.option("--dataset", help="Dataset: sun, cub, awa1, awa2, apy.")
@click.option("--seed", type=int, default=None, help="Seed (default: the profile's first seed).")
@click.option("--profile", default="paper", show_default=True, help="paper or quick.")
@click.option("--data", "source", type=click.Choice(["auto", "xlsa17", "synthetic"]), default="auto",
              show_default=True, help="Data source; auto = xlsa17 where found, else synthetic.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="xlsa17 data folder.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--results", type=click.Path(path_type=Path), default=None,
              help="Results folder (default: $ZSLBENCH_RESULTS or ./results).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field (repeatable).")
@click.option("--force", is_flag=True, help="Retrain even when the run is already done.")
@sweep_options
def run_cmd(model, dataset, seed, profile, source, data_dir, device, results, sets, force, **sweep) -> None:
    """Train and evaluate one run and write its record; with --all, run the whole grid as a
    resumable sweep (see README, Sweeps)."""
    from zslbench.config import GZSLConfig, get_profile, make_gzsl_config, parse_overrides
    from zslbench.data import DATASETS
    from zslbench.models import MODELS
    from zslbench.runner import run_gzsl

    if sweep.get("all_runs"):
        from zslbench.sweep import run_all_cli

        _check_writable(results)
        return run_all_cli(profile=profile, source=source, data_dir=data_dir, device=device, results=results,
                           sets=sets, force=force, single={"model": model, "dataset": dataset, "seed": seed},
                           **sweep)
    from zslbench.sweep import reject_sweep_options

    reject_sweep_options(sweep)
    if not model:
        _fail("run: --model is required (see `zslbench list models`)")
    if not dataset:
        _fail(f"run: --dataset is required; valid datasets: {', '.join(DATASETS)}")
    MODELS.get(model)
    if dataset not in DATASETS:
        _fail(f"--dataset: unknown dataset {dataset!r}; valid datasets: {', '.join(DATASETS)}")
    prof = get_profile(profile)
    overrides = parse_overrides(GZSLConfig, sets)
    make_gzsl_config(profile, overrides)  # validate values before any work
    seed = prof.seeds[0] if seed is None else seed
    _check_writable(results)

    if source == "auto":
        from zslbench.data import resolve_source

        if resolve_source(dataset, "auto", data_dir) == "synthetic":
            click.echo(f"warning: no xlsa17 files for {dataset} found; using SYNTHETIC data "
                       "(pass --data-dir or set $ZSLBENCH_DATA for the real data)", err=True)
    outcome = run_gzsl(model, dataset, seed=seed, profile=profile, source=source, data_dir=data_dir,
                       device=device, results=results, overrides=overrides, force=force)
    rec = outcome.record
    m = rec["metrics"]
    state = "already done (use --force to retrain)" if outcome.skipped else f"trained in {rec['train_seconds']:.1f}s"
    click.echo(f"{model} on {dataset} [{rec['data_source']}] seed {seed}: {state}")
    click.echo("  " + "  ".join(f"{k}={m[k]:.2f}" for k in ("S", "U", "H", "ZSL", "AUSUC")))
    click.echo(f"  record: {outcome.path / 'record.json'}")


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


# --- entry point ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="zslbench", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("zslbench: interrupted", err=True)
        sys.exit(130)
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
        click.echo("zslbench: interrupted", err=True)
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":
    main()
