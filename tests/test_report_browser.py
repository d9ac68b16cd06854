"""The report in a real browser: headless Chromium opens index.html from disk, the DOM it built
holds the tables and the claims, and its screenshot is not blank."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import warnings
from pathlib import Path

import pytest

from zslbench.report.page import write_report

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "results"
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (Debian: apt-get install chromium; .ci/run installs it as root)",
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1600",
]


def chromium(args: list[str], profile: Path, timeout: float = 120.0) -> str:
    """Run Chromium in its own process group (a new, empty profile); on a timeout the group is
    stopped by its id."""
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"Chromium did not finish within {timeout} s")
    assert proc.returncode == 0, f"Chromium exited with {proc.returncode}"
    return out


def test_report_renders_in_chromium(tmp_path):
    import numpy as np
    from PIL import Image

    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = write_report(results)
    url = files.index.resolve().as_uri()
    dom = chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert "The paper's claims, checked" in dom
    assert "mlp3+cn (quick, preset colab)" in dom  # a table cell
    assert "32.5 ± 3.3" in dom  # mlp3+cn's H on synthetic SUN
    assert "? inconclusive" in dom
    assert dom.count("<img") >= 3
    shot = tmp_path / "page.png"
    chromium([f"--screenshot={shot}", url], tmp_path / "profile-shot")
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        assert rgb.size == (1280, 1600)
        pixels = np.asarray(rgb.resize((128, 160))).reshape(-1, 3).astype(int)
    ink = float((pixels.sum(axis=1) < 600).mean())  # anything but white or near-white
    colours = len({tuple(p) for p in pixels})
    assert ink > 0.02 and colours > 50, (ink, colours)
