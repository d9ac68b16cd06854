"""What many test files share: running the CLI, reading its one-line errors, a local HTTP
server, waiting on what a process writes, and a CPU that is surely not this one.  Fixtures
built on these live in tests/conftest.py."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITEHOOKS = Path(__file__).resolve().parent / "sitehooks"  # see sitehooks/sitecustomize.py

# Generous: the tests run on slow, loaded machines too; a wait that times out is a failure.
WAIT_S = 300.0


# --------------------------------------------------------------------------- the CLI
def zsl(*args, env: dict | None = None, cwd=None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python -m zslbench ARGS` in a new process (this checkout first on its path)."""
    return subprocess.run(
        [sys.executable, "-m", "zslbench", *map(str, args)],
        capture_output=True,
        text=True,
        env=cli_env(**(env or {})),
        cwd=cwd,
        timeout=timeout,
    )


def cli_env(**extra: str) -> dict:
    """os.environ with this checkout first on PYTHONPATH and `extra` on top."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path, **extra)


def hooked_env(marks: Path, hold: tuple[int, ...] = (), **extra: str) -> dict:
    """An environment whose zslbench processes (and their workers) write `marks`/start-<n> when
    training loop n (0, 1, ... in the order they begin) takes its first step, and stay at that
    step for each n in `hold` until signalled or killed (tests/sitehooks/sitecustomize.py)."""
    marks.mkdir(parents=True, exist_ok=True)
    env = cli_env(ZSLBENCH_TEST_MARKS=str(marks), ZSLBENCH_TEST_HOLD=",".join(map(str, hold)), **extra)
    env["PYTHONPATH"] = os.pathsep.join((str(SITEHOOKS), env["PYTHONPATH"]))
    return env


def zsl_in_process(capsys, *args) -> tuple[int, str, str]:
    """`zslbench ARGS` in this process (no interpreter start-up): (exit code, stdout, stderr).
    main() installs a SIGTERM handler and a warning format; both are put back."""
    from zslbench.cli import main

    capsys.readouterr()
    handler, formatwarning = signal.getsignal(signal.SIGTERM), warnings.formatwarning
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.signal(signal.SIGTERM, handler)
        warnings.formatwarning = formatwarning
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- one-line errors
def one_line(stderr: str) -> str:
    """The only non-empty line of `stderr` (no traceback)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def one_error_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """A usage/data error: exit code 2 and one line on stderr that contains every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    line = one_line(proc.stderr)
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def one_line_message(excinfo) -> str:
    """The message of a raised error (pytest.raises' excinfo): one non-empty line."""
    text = str(excinfo.value)
    assert "\n" not in text and text
    return text


# --------------------------------------------------------------------------- waiting
def wait_for(condition: Callable[[], object], what: str, proc: subprocess.Popen | None = None, timeout: float = WAIT_S):
    """Poll `condition` until it returns something true (and return that).  Fails when `proc`
    ends first or after `timeout` seconds; the timeout only bounds a hung test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended (exit {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.05)


def training_started(marks: Path, n: int = 0) -> bool:
    """Whether training loop number `n` (0: the first) has taken its first step (hooked_env)."""
    return (marks / f"start-{n}").exists()


def training_pid(marks: Path, n: int = 0) -> int:
    """The process in which training loop number `n` runs (hooked_env)."""
    return int((marks / f"start-{n}").read_text())


# --------------------------------------------------------------------------- another machine
def other_cpu(numerics: dict) -> dict:
    """Numeric-environment fields of a CPU that is surely not the one in `numerics` (a record's
    env["numerics"] or zslbench.environment.numeric_environment()): another vendor and
    instruction set."""
    vendor = "AuthenticAMD" if numerics.get("cpu_vendor") != "AuthenticAMD" else "GenuineIntel"
    capability = "AVX512" if numerics.get("cpu_capability") != "AVX512" else "AVX2"
    return {"cpu_vendor": vendor, "cpu_capability": capability}


# --------------------------------------------------------------------------- a local HTTP server
@dataclass
class LocalServer:
    """What a LocalHandler serves and how it misbehaves; every request is logged in `requests`
    as {path, range, status, sent}."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    status: int | None = None  # answer every request with this HTTP error
    ignore_range: bool = False  # answer Range requests with 200 and the whole body
    drop_after: int | None = None  # the next response stops after this many body bytes
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, path: str, payload: bytes) -> str:
        """Serve `payload` at `path`; its URL."""
        self.files[path] = payload
        return self.base + path


class LocalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        state: LocalServer = self.server.state
        rng = self.headers.get("Range")
        rec = {"path": self.path, "range": rng, "sent": 0, "status": None}
        with state.lock:
            state.requests.append(rec)
            drop, state.drop_after = state.drop_after, None
            data = state.files.get(self.path)
        if state.status is not None or data is None:
            rec["status"] = state.status or 404
            self.send_error(rec["status"])
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and not state.ignore_range:
            start = int(m.group(1))
            if start >= len(data):
                rec["status"] = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            rec["status"] = 206
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            rec["status"] = 200
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if drop is not None:
            self.wfile.write(body[:drop])
            self.wfile.flush()
            rec["sent"] = drop
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)
        rec["sent"] = len(body)


def local_server():
    """A generator (for a fixture): a LocalServer on 127.0.0.1, stopped afterwards."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), LocalHandler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    httpd.state = LocalServer(base=f"http://{host}:{port}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
