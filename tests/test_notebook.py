"""examples/quickstart.ipynb runs top to bottom in a real Jupyter kernel (nbclient, ipykernel),
on the synthetic data, into a temporary results folder; its docs copy shows the same cells."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="in the test extra: pip install -e '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="in the test extra: pip install -e '.[test]'")
    pytest.importorskip("ipykernel", reason="in the test extra: pip install -e '.[test]'")
    monkeypatch.setenv("ZSLBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "no-data"))  # the synthetic data, wherever it runs
    monkeypatch.delenv("ZSLBENCH_PLUGINS", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    start = time.monotonic()
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    seconds = time.monotonic() - start
    outputs = {i: cell.get("outputs", []) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    assert not [o for outs in outputs.values() for o in outs if o.get("output_type") == "error"]
    images = [o for outs in outputs.values() for o in outs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the variance plot and the training curves, inline
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for outs in outputs.values() for o in outs
    )
    assert "sweep finished" in text and "mlp2-ln" in text and "H per epoch:" in text
    records = list((tmp_path / "results" / "runs").glob("*/done"))
    assert len(records) == 7, seconds  # 2 + 1 CZSL + 2 new in the sweep + the plugin's + linear
    print(f"notebook: {seconds:.0f} s")


def test_the_docs_show_the_notebook_as_it_is():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "render_notebook.py"), "--check"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
