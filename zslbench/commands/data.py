"""`zslbench data check` and `zslbench data fetch`: validate, and download, the xlsa17 data, the raw
CUB/SUN images and the ResNet-18 checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zslbench.commands.common import check_dataset_name, fail, split_list
from zslbench.errors import ZSLBenchError


@click.group("data")
def data_group() -> None:
    """Check (and fetch) the xlsa17 data, the raw CUB/SUN images and the ResNet-18 checkpoint."""


@data_group.command("check")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder holding xlsa17/data/<DATASET>/, CUB_200_2011/, SUN/, resnet18-imagenet/ "
    "(default: $ZSLBENCH_DATA or the user cache).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="Dataset to check: an xlsa17 dataset, cub-images, sun-images or resnet18-imagenet "
    "(repeatable; default: all found).",
)
def data_check(data_dir: Path | None, datasets: tuple[str, ...]) -> None:
    """Validate the xlsa17 files (and the raw-image data) and print one row per dataset."""
    from tabulate import tabulate

    from zslbench.api import FEATURE_DATASETS
    from zslbench.data import DATASETS, default_data_dir
    from zslbench.data.features.npz import check_npz, npz_path
    from zslbench.data.features.xlsa17 import check_all
    from zslbench.data.images.check import IMAGE_CHECKS, check_image_data, found_image_data

    names: list[str] = []
    for item in datasets:
        names += split_list(item)
    for name in names:
        check_dataset_name(name, [*DATASETS, *IMAGE_CHECKS, *FEATURE_DATASETS])
    image_names = [n for n in names if n in IMAGE_CHECKS]
    npz_names = [n for n in names if n in FEATURE_DATASETS]
    names = [n for n in names if n not in IMAGE_CHECKS and n not in FEATURE_DATASETS]
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if not datasets:
        image_names = found_image_data(data_dir)
        npz_names = [n for n in FEATURE_DATASETS if npz_path(n, data_dir).parent.is_dir()]
    if data_dir.exists() and not data_dir.is_dir():
        fail(f"--data-dir {data_dir}: not a folder")
    if not datasets and not (image_names or npz_names) and not (data_dir.is_dir() and check_all(data_dir)):
        # nothing there yet: a row per dataset, saying so (not an error: the runs use synthetic data)
        click.echo(
            tabulate(
                [[n, "-", "-/-", "-", "-/-/-", "missing"] for n in DATASETS],
                headers=["dataset", "vintage", "seen/unseen", "attributes", "trainval/test_seen/test_unseen", "status"],
            )
        )
        click.echo(
            f"no data in {data_dir} (expected {data_dir}/xlsa17/data/<SUN|CUB|AWA1|AWA2|APY>): runs use "
            "SYNTHETIC data; `zslbench data fetch` downloads the real data",
            err=True,
        )
        return
    results = check_all(data_dir, names or None) if names or not (image_names or npz_names) else []
    results += [check_npz(n, data_dir) for n in npz_names]
    if not results and not image_names:
        fail(f"{data_dir}: no xlsa17 dataset folders found (expected {data_dir}/xlsa17/data/<SUN|CUB|AWA1|AWA2|APY>)")
    failed = False
    if results:
        rows = []
        for r in results:
            rows.append(
                [
                    r.dataset,
                    r.vintage or "-",
                    f"{_v(r.seen)}/{_v(r.unseen)}",
                    _v(r.attributes),
                    f"{_v(r.trainval)}/{_v(r.test_seen)}/{_v(r.test_unseen)}",
                    r.status,
                ]
            )
        click.echo(
            tabulate(
                rows,
                headers=["dataset", "vintage", "seen/unseen", "attributes", "trainval/test_seen/test_unseen", "status"],
            )
        )
        failed = any(r.status == "fail" for r in results)
        for r in results:
            if r.status != "ok" and r.message:
                click.echo(f"{r.dataset}: {r.message}", err=True)
    if image_names:
        checks = [check_image_data(n, data_dir) for n in image_names]
        if results:
            click.echo()
        click.echo(
            tabulate(
                [
                    [c.dataset, _v(c.images), _v(c.classes), _v(c.attributes), c.split, c.attr_source, c.status]
                    for c in checks
                ],
                headers=["dataset", "images", "classes", "attributes", "train/(val/)test", "attributes from", "status"],
            )
        )
        for c in checks:
            if c.status != "ok" and c.message:
                click.echo(f"{c.dataset}: {c.message}", err=True)
        failed = failed or any(c.status == "fail" for c in checks)
    if failed:
        sys.exit(2)


@data_group.command("fetch")
@click.option(
    "--dataset",
    "dataset",
    default="xlsa17",
    show_default=True,
    type=click.Choice(["xlsa17", "cub-images", "sun-images", "resnet18-imagenet"]),
    help="What to fetch: the xlsa17 features, the raw CUB or SUN images, or the ImageNet ResNet-18 checkpoint.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The data folder (default: $ZSLBENCH_DATA or the user cache).",
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    help="Download from this address (a mirror) instead of the official one "
    "(sun-images: two, the images archive then the attribute archive).",
)
@click.option(
    "--from-zip",
    "from_zip",
    type=click.Path(path_type=Path),
    default=None,
    help="Use this xlsa17.zip (downloaded by hand) instead of downloading.",
)
@click.option(
    "--from-archive",
    "from_archives",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Use this archive (.tgz/.tar.gz; for resnet18-imagenet the .pth) instead of "
    "downloading (repeatable: SUN has two).",
)
@click.option("--sha256", default=None, metavar="HEX", help="Expected SHA-256 of the xlsa17 archive.")
@click.option("--keep-zip", is_flag=True, help="Keep the downloaded archive(s) in <data-dir>/downloads/.")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries of a failed download (resumed where it stopped).",
)
@click.option(
    "--retry-wait",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry; doubled at each retry (at most 60).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Network timeout in seconds.",
)
def data_fetch(
    dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait, timeout
) -> None:
    """Download the data (resumable), verify it, unpack and validate it atomically."""
    try:
        _data_fetch(dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait, timeout)
    except KeyboardInterrupt:
        _fetch_interrupted(data_dir)


def _fetch_interrupted(data_dir) -> None:
    """Ctrl-C or SIGTERM during `data fetch`: say which partial downloads are kept for resuming."""
    from zslbench.data.download import DOWNLOADS_DIR, resolve_root
    from zslbench.interrupt import exit_interrupted

    try:
        kept = [
            f"{p} ({p.stat().st_size} bytes)" for p in sorted((resolve_root(data_dir) / DOWNLOADS_DIR).glob("*.part"))
        ]
    except (OSError, ZSLBenchError):
        kept = []
    if kept:
        click.echo(
            f"zslbench: interrupted; kept {', '.join(kept)}: the same command resumes the download; "
            "nothing was installed half-way",
            err=True,
        )
    else:
        click.echo(
            "zslbench: interrupted; nothing was installed half-way: run the same command again to finish", err=True
        )
    exit_interrupted(130)


def _data_fetch(
    dataset, data_dir, urls, from_zip, from_archives, sha256, keep_zip, retries, retry_wait, timeout
) -> None:
    if dataset != "xlsa17":
        from zslbench.data.images.fetch import fetch_images

        if from_zip is not None:
            fail("--from-zip is for xlsa17; use --from-archive")
        if sha256 is not None:
            fail("--sha256 is for xlsa17 (the checkpoint is checked against the hash in its name)")
        fetched = fetch_images(
            dataset,
            data_dir,
            urls,
            from_archives,
            keep_archives=keep_zip,
            retries=retries,
            backoff=retry_wait,
            timeout=timeout,
            log=click.echo,
        )
        for note in fetched.notes:
            click.echo(f"warning: {note}", err=True)
        return
    from zslbench.data.features.fetch import OFFICIAL_URL, fetch_xlsa17

    if len(urls) > 1:
        fail("--url: xlsa17 takes one address")
    url = urls[0] if urls else None
    if from_archives:
        if len(from_archives) > 1 or from_zip is not None:
            fail("--from-archive: xlsa17 takes one zip")
        from_zip = from_archives[0]
    if url is not None and from_zip is not None:
        fail("--url and --from-zip exclude each other")
    result = fetch_xlsa17(
        data_dir,
        url or OFFICIAL_URL,
        from_zip,
        sha256,
        keep_zip=keep_zip,
        retries=retries,
        backoff=retry_wait,
        timeout=timeout,
        log=click.echo,
    )
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)


def _v(value) -> str:
    return "-" if value is None else str(value)
