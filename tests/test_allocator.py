"""Freed memory kept in the process (zslbench.allocator): a large block comes from the heap
instead of a fresh mmap once the settings are applied, ZSLBENCH_MALLOC=default leaves glibc's
behaviour, and the settings change no run id and no number."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import subprocess
import sys

import pytest

from support import ROOT

# In a fresh process: malloc 48 MiB, and print how many more bytes malloc holds in mmapped blocks.
PROBE = """
import ctypes, ctypes.util, sys
sys.path.insert(0, {root!r})
from zslbench.allocator import keep_freed_memory
taken = keep_freed_memory()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
before = libc.mallinfo2().hblkhd
block = libc.malloc(48 << 20)
print(taken, libc.mallinfo2().hblkhd - before)
"""


def glibc_with_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "mallinfo2")
    except OSError:
        return False


def probe(env_value: str | None) -> tuple[bool, int]:
    env = {k: v for k, v in os.environ.items() if k != "ZSLBENCH_MALLOC"}
    if env_value is not None:
        env["ZSLBENCH_MALLOC"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT))], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2) to see where a block came from")
def test_a_large_block_comes_from_the_heap_once_the_settings_are_applied():
    taken, mmapped = probe(None)
    assert taken and mmapped == 0


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2) to see where a block came from")
def test_zslbench_malloc_default_leaves_glibc_as_it_is():
    taken, mmapped = probe("default")
    assert not taken and mmapped >= 48 << 20


def test_the_settings_change_no_run_id_and_no_number(tmp_path):
    """The same tiny run through the command line with and without the settings."""
    records = []
    for value in (None, "default"):
        env = {k: v for k, v in os.environ.items() if k != "ZSLBENCH_MALLOC"}
        if value is not None:
            env["ZSLBENCH_MALLOC"] = value
        results = tmp_path / f"results-{value}"
        cmd = [sys.executable, "-m", "zslbench", "run", "--model", "mlp3", "--dataset", "apy", "--profile", "quick"]
        cmd += ["--data", "synthetic", "--set", "epochs=2", "--results", str(results)]
        subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        (path,) = results.glob("runs/*/record.json")
        records.append(json.loads(path.read_text()))
    assert records[0]["run_id"] == records[1]["run_id"]
    assert records[0]["metrics"] == records[1]["metrics"]
