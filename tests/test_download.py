"""The machinery shared by every `zslbench data fetch` (zslbench.data.download), the file lock
(zslbench.locks.FileLock) and the progress bar (zslbench.progress.Progress), tested directly.
The fetches themselves are tested end to end in test_fetch.py and test_fetch_images.py."""

from __future__ import annotations

import pytest

from zslbench.data.download import (
    DOWNLOADS_DIR,
    check_http_url,
    clean_stale,
    fetch_lock,
    install_file,
    move_into_place,
    normalise_sha256,
    staging_dir,
    verify_file,
)
from zslbench.errors import DataError
from zslbench.locks import FileLock, RunLock
from zslbench.progress import Progress


def test_a_second_fetch_into_the_same_folder_is_refused_until_the_first_ends(tmp_path):
    with fetch_lock(tmp_path):
        with pytest.raises(DataError, match="another 'zslbench data fetch' is running"):
            with fetch_lock(tmp_path):
                pass
    with fetch_lock(tmp_path):  # free again
        pass
    assert (tmp_path / DOWNLOADS_DIR / ".lock").is_file()  # the data lock keeps its file


def test_file_lock_removes_its_file_only_when_asked(tmp_path):
    kept = FileLock(tmp_path / "kept.lock", remove=False)
    assert kept.acquire() and kept.held
    assert not FileLock(tmp_path / "kept.lock", remove=False).acquire(wait=False)
    kept.release()
    assert (tmp_path / "kept.lock").exists() and not kept.held

    run = RunLock(tmp_path, "abc")
    assert run.acquire()
    assert "pid=" in run.holder()
    run.release()
    assert not run.path.exists()


def test_clean_stale_removes_only_the_temp_files_of_that_fetch(tmp_path):
    (tmp_path / ".cub-images.tmp-x1" / "deep").mkdir(parents=True)
    (tmp_path / ".cub-images.old-x2").mkdir()
    (tmp_path / ".cub-images.tmp-file").write_text("partial")
    (tmp_path / ".sun-images.tmp-x3").mkdir()  # another fetch's
    (tmp_path / "CUB_200_2011").mkdir()
    clean_stale(tmp_path, "cub-images")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sun-images.tmp-x3", "CUB_200_2011"]


def test_move_into_place_replaces_the_old_copy_and_leaves_no_temp_folder(tmp_path):
    stage = staging_dir(tmp_path, "thing")
    (stage / "new").mkdir()
    (stage / "new" / "f").write_text("new")
    dst = tmp_path / "thing"
    dst.mkdir()
    (dst / "f").write_text("old")
    move_into_place(stage / "new", dst, tmp_path, "thing")
    assert (dst / "f").read_text() == "new"
    stage.rmdir()  # empty now: the new folder was moved out of it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing"]


@pytest.mark.parametrize("move", [False, True])
def test_install_file_copies_or_moves_atomically(tmp_path, move):
    src = tmp_path / "src.bin"
    src.write_bytes(b"weights")
    final = tmp_path / "models" / "w.pth"
    install_file(src, final, move=move)
    assert final.read_bytes() == b"weights"
    assert src.exists() is (not move)
    assert [p.name for p in final.parent.iterdir()] == ["w.pth"]  # no temp file left


def test_checks_of_files_urls_and_digests(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # SHA-256 of "abc"
    assert verify_file(f, digest, 3) == digest
    with pytest.raises(DataError, match="size 3 bytes, expected 4"):
        verify_file(f, None, 4)
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        verify_file(f, "0" * 64)
    assert normalise_sha256(" " + digest.upper() + "\n") == digest
    with pytest.raises(DataError, match="not a SHA-256 digest"):
        normalise_sha256("abc")
    check_http_url("https://example.org/x.zip", "--from-zip")
    with pytest.raises(DataError, match="use --from-zip for a local file"):
        check_http_url("/tmp/x.zip", "--from-zip")


def test_progress_off_prints_written_lines_and_ignores_the_rest(capsys):
    with Progress(3, "test", "B", enabled=False) as bar:
        assert not bar.shown
        bar.update(2, loss=0.5)
        bar.write("a line")
    assert capsys.readouterr().err == "a line\n"
