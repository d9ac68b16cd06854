"""Hostile servers for `zslbench data fetch`: one that promises more than it sends and ignores
Range, one that sends a few bytes per request, one that drips a byte at a time, redirects to
other schemes, and Ctrl-C in the middle of a download.  Every server runs on 127.0.0.1 inside
the test, each response is bounded in time, and the server is shut down afterwards."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _image_layouts import cub_archive, make_cub

from support import cli_env, one_line, wait_for
from zslbench.data.download import download
from zslbench.errors import DataError

pytestmark = pytest.mark.filterwarnings("ignore::zslbench.data.features.xlsa17.DataWarning")

PAYLOAD = bytes(range(256)) * 8  # 2048 bytes
DRIP_SECONDS = 20.0  # the longest a dripping response lasts


class Hostile(BaseHTTPRequestHandler):
    """Misbehaves as the path says; every request is counted in server.requests."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append(self.path)
            n = len(srv.requests)
        if n > srv.give_up_after:  # bounds a client that would never stop
            self.send_error(404)
            return
        rng = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if self.path.startswith("/short"):  # ignores Range, promises the whole file, sends half
            self._head(200, len(PAYLOAD))
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
        elif self.path.startswith("/trickle"):  # honours Range, sends 10 bytes per request
            start = int(rng.group(1)) if rng else 0
            self._head(
                206 if start else 200,
                len(PAYLOAD) - start,
                f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}" if start else None,
            )
            self.wfile.write(PAYLOAD[start : start + 10])
        elif self.path.startswith("/drip"):  # one byte every 0.2 s
            self._head(200, len(PAYLOAD))
            end = time.monotonic() + DRIP_SECONDS
            for i in range(len(PAYLOAD)):
                if time.monotonic() > end or srv.stopping.is_set():
                    break
                try:
                    self.wfile.write(PAYLOAD[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    break
                srv.dripped += 1
                time.sleep(0.2)
        elif self.path.startswith("/to-ftp"):
            self._redirect(f"ftp://127.0.0.1:{srv.server_address[1]}/xlsa17.zip")
        elif self.path.startswith("/moved/"):
            self._redirect(self.path.replace("/moved/", "/files/", 1))
        elif self.path.startswith("/files/") and self.path[len("/files/") :] in srv.files:
            body = srv.files[self.path[len("/files/") :]]
            self._head(200, len(body))
            self.wfile.write(body)
        else:
            self.send_error(404)
            return
        self.close_connection = True

    def _head(self, status, length, content_range=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        if content_range:
            self.send_header("Content-Range", content_range)
        self.end_headers()

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hostile():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    httpd.daemon_threads = True
    httpd.requests, httpd.lock, httpd.files = [], threading.Lock(), {}
    httpd.stopping, httpd.give_up_after, httpd.dripped = threading.Event(), 200, 0
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_a_server_that_ignores_range_and_sends_half_is_given_up(hostile, tmp_path):
    hostile.give_up_after = 40
    with pytest.raises(DataError, match="connection closed after 1024 of 2048 bytes"):
        download(hostile.base + "/short/x.zip", tmp_path / "x.zip", retries=1, backoff=0, timeout=5)
    assert len(hostile.requests) == 2  # the second attempt made the file no larger
    assert (tmp_path / "x.zip.part").stat().st_size == 1024  # kept for a later resume


def test_the_attempts_are_capped_in_all(hostile, tmp_path):
    with pytest.raises(DataError, match=r"stopped after 20 attempts in all \(at most 10 x \(--retries \+ 1\)\)"):
        download(hostile.base + "/trickle/x.zip", tmp_path / "x.zip", retries=1, backoff=0, timeout=5)
    assert len(hostile.requests) == 20  # each of them made progress: 10 bytes
    assert (tmp_path / "x.zip.part").stat().st_size == 200


def test_a_dripping_server_fails_within_the_timeout(hostile, tmp_path):
    start = time.monotonic()
    with pytest.raises(DataError, match="slower than 1024 bytes/s over --timeout 1s"):
        download(hostile.base + "/drip/x.zip", tmp_path / "x.zip", retries=1, backoff=0, timeout=1)
    assert time.monotonic() - start < 30  # about 2-3 s: two attempts of a 1 s timeout, with margin for a busy machine
    assert len(hostile.requests) == 2  # a slow attempt is no progress, however many bytes it brought


def test_a_redirect_to_ftp_is_refused(hostile, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "zslbench",
            "data",
            "fetch",
            "--url",
            hostile.base + "/to-ftp",
            "--data-dir",
            str(tmp_path / "D"),
            "--retries",
            "2",
            "--retry-wait",
            "0",
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert "redirects to 'ftp://127.0.0.1" in line and "only http(s) addresses are followed" in line
    assert hostile.requests == ["/to-ftp"]


def test_the_final_address_is_recorded(hostile, tmp_path):
    from zslbench.data.images.fetch import fetch_images

    archive = cub_archive(tmp_path / "CUB_200_2011.tgz", make_cub(tmp_path / "src"))
    hostile.files["CUB_200_2011.tgz"] = archive.read_bytes()
    d = tmp_path / "D"
    fetch_images(
        "cub-images",
        d,
        urls=[hostile.base + "/moved/CUB_200_2011.tgz"],
        retries=0,
        backoff=0,
        timeout=10,
        progress=False,
    )
    record = json.loads((d / "downloads" / "cub-images.fetched.json").read_text())
    assert record["final_urls"] == {"CUB_200_2011.tgz": hostile.base + "/files/CUB_200_2011.tgz"}
    assert hostile.requests == ["/moved/CUB_200_2011.tgz", "/files/CUB_200_2011.tgz"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_fetch_says_the_partial_download_is_kept(hostile, tmp_path, sig):
    d = tmp_path / "D"
    part = d / "downloads" / "xlsa17.zip.part"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zslbench",
            "data",
            "fetch",
            "--url",
            hostile.base + "/drip/xlsa17.zip",
            "--data-dir",
            str(d),
            "--timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        # SIGINT's default disposition, whatever the launcher (a background shell ignores it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(part.is_file, "the start of the download", proc)
        # a few bytes more (held in the writer's buffer until the file is closed), however slowly
        # a loaded machine lets the client read them
        wait_for(lambda: hostile.dripped >= 3, "a few bytes sent", proc)
        time.sleep(0.5)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    line = one_line(err)
    assert "nothing partial was kept" not in line
    assert f"kept {part} (" in line and "the same command resumes the download" in line
    size = int(re.search(r"\((\d+) bytes\)", line).group(1))
    assert size > 0 and part.stat().st_size == size
