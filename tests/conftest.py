"""Shared pytest fixtures (the functions behind them: tests/support.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import settings
from hypothesis.errors import InvalidArgument

import support

# Property tests explore new examples on every local run; under CI=true they draw the same
# examples each time, so a submission's verdict never depends on the draw (a failure found
# locally is fixed and kept as an explicit case).
# Recent hypothesis ships a "ci" profile (no deadline, no too-slow health check, derandomised):
# kept as the parent, so a busy CI machine cannot fail a property test on its speed alone.
try:
    _parent = settings.get_profile("ci")
except InvalidArgument:  # an older hypothesis without it
    _parent = None
settings.register_profile("ci", _parent, derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

# Timed progress lines (zslbench.progress) would add a line to any command a slow machine keeps
# past a minute; tests that read stderr line by line see none.  tests/test_progress.py turns
# them back on where it tests them.
os.environ["ZSLBENCH_PROGRESS_SECONDS"] = "off"


@pytest.fixture
def one_thread():
    """Train with one torch thread, then restore the caller's count. The test models are tiny: on
    a shared 2-core machine a second intra-op thread only adds contention (training becomes
    several times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def http_server():
    """A LocalServer on 127.0.0.1 (support.LocalServer): `serve(path, payload)` gives a URL."""
    yield from support.local_server()


# The documentation site, built once for the session: tests/test_docs.py and
# tests/test_docs_site.py read it.
@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(support.ROOT / "mkdocs.yml"),
            "--site-dir",
            str(out),
        ],
        cwd=support.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, "mkdocs build --strict failed:\n" + proc.stdout + proc.stderr
    return out
