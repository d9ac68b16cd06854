"""The `zslbench` command line: a thin shell over the library.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr, no traceback);
1 unexpected failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zslbench.commands.common import check_dataset_name as _check_dataset_name
from zslbench.commands.common import fail as _fail
from zslbench.commands.common import split_list as _split_list
from zslbench.commands.replay import replay_cmd
from zslbench.commands.run import run_cmd
from zslbench.commands.sweep import sweep_cmd
from zslbench.commands.validate import validate_cmd
from zslbench.errors import ZSLBenchError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zslbench")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Load a plugin module (repeatable; also $ZSLBENCH_PLUGINS and the zslbench.plugins "
                   "entry points; docs/extending.md).")
def cli(plugins: tuple[str, ...]) -> None:
    """Reproduce 'Class Normalization for (Continual)? Generalized Zero-Shot Learning'."""
    from zslbench.tracks import load_plugins

    load_plugins(plugins)


# --- list --------------------------------------------------------------------------------
@cli.command("list")
@click.argument("what", required=False,
                type=click.Choice(["models", "methods", "datasets", "profiles", "presets"]))
def list_cmd(what: str | None) -> None:
    """List the registered models, CZSL methods, datasets, profiles or presets."""
    from zslbench.api import FEATURE_DATASETS
    from zslbench.config import PROFILES
    from zslbench.data.features.specs import DATASETS
    from zslbench.models import MODELS
    from zslbench.plugins import source_text
    from zslbench.presets import DEFAULT_PRESET, PRESETS

    sections = {
        "models": [(n, f"[{source_text(MODELS.get(n).source)}] {MODELS.get(n).description}") for n in MODELS],
        "datasets": [
            (n, f"[built-in] {s.display}: {s.n_classes} classes ({s.n_seen} seen / {s.n_unseen} unseen), "
                f"{s.attr_dim} attributes, {s.n_images} images")
            for n, s in DATASETS.items()
        ] + [(n, f"[{source_text(d.source)}] {d.description or d.display} (features.npz)")
             for n, d in ((n, FEATURE_DATASETS.get(n)) for n in FEATURE_DATASETS)],
        "profiles": [(p.name, p.description) for p in PROFILES.values()],
        "presets": [
            (p.name, ("(default) " if p.name == DEFAULT_PRESET else "") + p.description + "; sets "
             + " ".join(f"{k}={_flag(v)}" for k, v in p.gzsl.items()))
            for p in PRESETS.values()
        ],
    }
    try:
        from zslbench.train.czsl import CZSL_METHODS  # available once CZSL is installed

        sections["methods"] = [(n, f"[{source_text(CZSL_METHODS.get(n).source)}] {CZSL_METHODS.get(n).description}")
                               for n in CZSL_METHODS]
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
    from zslbench.api import FEATURE_DATASETS
    from zslbench.data.features.npz import check_npz, npz_path
    from zslbench.data.features.xlsa17 import check_all

    names: list[str] = []
    for item in datasets:
        names += _split_list(item)
    for name in names:
        _check_dataset_name(name, [*DATASETS, *IMAGE_CHECKS, *FEATURE_DATASETS])
    image_names = [n for n in names if n in IMAGE_CHECKS]
    npz_names = [n for n in names if n in FEATURE_DATASETS]
    names = [n for n in names if n not in IMAGE_CHECKS and n not in FEATURE_DATASETS]
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if not datasets:
        image_names = found_image_data(data_dir)
        npz_names = [n for n in FEATURE_DATASETS if npz_path(n, data_dir).parent.is_dir()]
    if data_dir.exists() and not data_dir.is_dir():
        _fail(f"--data-dir {data_dir}: not a folder")
    if not datasets and not (image_names or npz_names) and not (data_dir.is_dir() and check_all(data_dir)):
        # nothing there yet: a row per dataset, saying so (not an error: the runs use synthetic data)
        click.echo(tabulate([[n, "-", "-/-", "-", "-/-/-", "missing"] for n in DATASETS],
                            headers=["dataset", "vintage", "seen/unseen", "attributes",
                                     "trainval/test_seen/test_unseen", "status"]))
        click.echo(f"no data in {data_dir} (expected {data_dir}/xlsa17/data/<SUN|CUB|AWA1|AWA2|APY>): runs use "
                   "SYNTHETIC data; `zslbench data fetch` downloads the real data", err=True)
        return
    results = check_all(data_dir, names or None) if names or not (image_names or npz_names) else []
    results += [check_npz(n, data_dir) for n in npz_names]
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
    try:
        _data_fetch(dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait,
                    timeout)
    except KeyboardInterrupt:
        _fetch_interrupted(data_dir)


def _fetch_interrupted(data_dir) -> None:
    """Ctrl-C or SIGTERM during `data fetch`: say which partial downloads are kept for resuming."""
    from zslbench.data.download import DOWNLOADS_DIR, resolve_root
    from zslbench.interrupt import exit_interrupted

    try:
        kept = [f"{p} ({p.stat().st_size} bytes)"
                for p in sorted((resolve_root(data_dir) / DOWNLOADS_DIR).glob("*.part"))]
    except (OSError, ZSLBenchError):
        kept = []
    if kept:
        click.echo(f"zslbench: interrupted; kept {', '.join(kept)}: the same command resumes the download; "
                   "nothing was installed half-way", err=True)
    else:
        click.echo("zslbench: interrupted; nothing was installed half-way: run the same command again to finish",
                   err=True)
    exit_interrupted(130)


def _data_fetch(dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait,
                timeout) -> None:
    if dataset != "xlsa17":
        from zslbench.data.images.fetch import fetch_images

        if from_zip is not None:
            _fail("--from-zip is for xlsa17; use --from-archive")
        if sha256 is not None:
            _fail("--sha256 is for xlsa17 (the checkpoint is checked against the hash in its name)")
        fetched = fetch_images(dataset, data_dir, urls, from_archives, keep_archives=keep_zip,
                               retries=retries, backoff=retry_wait, timeout=timeout, log=click.echo)
        for note in fetched.notes:
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


# --- run, sweep, replay (zslbench.commands) ------------------------------------------------
cli.add_command(run_cmd)
cli.add_command(sweep_cmd)
cli.add_command(replay_cmd)
cli.add_command(validate_cmd)


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
    """Each distinct warning once (a report reads the records several times)."""
    for message in dict.fromkeys(str(w.message) for w in caught):
        click.echo(f"zslbench: warning: {message}", err=True)


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
    if argv is None:  # the process's own command line: set before any parallel operation, so
        from zslbench.subnormal import flush_at_process_start  # the threads start flushing

        flush_at_process_start()
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
