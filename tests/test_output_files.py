"""Output files (``--csv``, ``--dot``, ``--save``): symlinks, FIFOs, ``-``, modes, hard links,
long names, OS write errors and signals (issue 12, items 1-4).

Special files are made by the tests in temporary folders; no real device path is written.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.atomic_file import atomic_write
from gradx.errors import GradxError

SRC = Path(__file__).parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_symlink_is_followed_and_stays_a_link(run_cli, tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target.name)
    result = run_cli("eval", "x^2", "--at", "x=3", "--csv", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert [float(r["value"]) for r in csv_rows(target.read_text())] == [9.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_a_fifo_is_written_directly_not_replaced(run_cli, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = run_cli("eval", "x^2", "--at", "x=2", "--csv", str(fifo))
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [float(r["autograd"]) for r in csv_rows(received[0])] == [4.0]
    assert [p.name for p in tmp_path.iterdir()] == ["pipe.csv"]


def test_csv_dash_writes_the_csv_to_stdout_instead_of_the_table(run_cli):
    result = run_cli("eval", "x^2", "--range", "0:2", "--steps", "3", "--csv", "-")
    assert result.exit_code == 0
    assert [float(r["x"]) for r in csv_rows(result.stdout)] == [0.0, 1.0, 2.0]


def test_csv_dash_and_json_cannot_share_stdout(run_cli):
    result = run_cli("eval", "x^2", "--at", "x=1", "--csv", "-", "--json")
    assert result.exit_code == 2
    assert "choose one" in result.stderr


def test_dot_dash_writes_dot_to_stdout(run_cli):
    result = run_cli("graph", "2*x*x", "--dot", "-")
    assert result.exit_code == 0
    assert result.stdout.lstrip().startswith("digraph")


def test_a_replaced_file_keeps_its_mode(run_cli, tmp_path):
    out = tmp_path / "private.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    result = run_cli("eval", "x", "--at", "x=1", "--csv", str(out))
    assert result.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() != "old\n"


def test_a_new_file_gets_the_umask_permissions(run_cli, tmp_path):
    out = tmp_path / "new.csv"
    umask = os.umask(0o022)
    try:
        result = run_cli("eval", "x", "--at", "x=1", "--csv", str(out))
    finally:
        os.umask(umask)
    assert result.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_hard_links_are_kept(run_cli, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("old\n")
    second = tmp_path / "b.csv"
    os.link(first, second)
    result = run_cli("eval", "x", "--at", "x=5", "--csv", str(first))
    assert result.exit_code == 0
    assert first.stat().st_ino == second.stat().st_ino and first.stat().st_nlink == 2
    assert [float(r["x"]) for r in csv_rows(second.read_text())] == [5.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


def test_a_250_character_name_is_written_without_a_stray_temp_file(run_cli, tmp_path):
    out = tmp_path / ("n" * 246 + ".csv")
    result = run_cli("eval", "x", "--at", "x=1", "--csv", str(out))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_name_over_the_limit_is_one_line_and_exit_2(run_cli, tmp_path):
    out = tmp_path / ("n" * 300 + ".csv")
    result = run_cli("eval", "x", "--at", "x=1", "--csv", str(out))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def full_disk(*args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "x^2", "--range", "0:1", "--csv", "{out}.csv"],
        ["graph", "2*x*x", "--dot", "{out}.dot"],
    ],
)
def test_a_full_disk_is_one_line_exit_2_and_the_old_file_stays(
    run_cli, tmp_path, monkeypatch, args
):
    base = tmp_path / "out"
    args = [a.format(out=base) for a in args]
    old = Path(args[-1])
    old.write_text("old contents\n")
    monkeypatch.setattr(os, "fsync", full_disk)
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot write {old}: No space left on device"
    assert old.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == [old.name]


def test_atomic_write_cleans_up_when_the_body_fails_with_an_os_error(tmp_path):
    target = tmp_path / "t.txt"
    with pytest.raises(Exception, match="No space left"), atomic_write(target) as handle:
        handle.write("x")
        full_disk()
    assert list(tmp_path.iterdir()) == []


def gradx(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gradx", *args], env=ENV, **kwargs)


def test_a_closed_stdout_is_an_error_not_silence(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import os, sys, runpy; os.close(1); sys.argv = ['gradx', 'eval',"
         " 'x', '--at', 'x=1']; runpy.run_module('gradx', run_name='__main__')"],
        env=ENV, capture_output=False, stderr=subprocess.PIPE, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert "standard output is closed" in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_is_one_line_and_exit_2():
    with open("/dev/full", "w") as full:  # noqa: PTH123 - stdout of the child only
        done = subprocess.run(
            [sys.executable, "-m", "gradx", "eval", "x", "--at", "x=1"],
            env=ENV, stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["error: cannot write standard output: No space left on device"], lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_a_long_csv_leaves_no_temporary_file(tmp_path, sig):
    out = tmp_path / "big.csv"
    process = gradx(
        "eval", "sin(x)*exp(x)", "--range", "0:1", "--steps", "50000000", "--csv", str(out),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the temporary file never appeared"
            time.sleep(0.05)
        process.send_signal(sig)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert code == 128 + sig
    assert list(tmp_path.iterdir()) == []


@settings(deadline=None, max_examples=60)
@given(st.text(min_size=1, max_size=300).filter(lambda s: s not in (".", "..", "-")))
def test_any_file_name_is_written_whole_or_refused_cleanly(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp("names")
    path = folder / name.replace("/", "_").replace("\x00", "_")
    try:
        with atomic_write(path) as handle:
            handle.write("content\n")
    except GradxError as error:
        assert error.exit_code == 2
        assert list(folder.iterdir()) == []
        return
    assert path.read_text(encoding="utf-8") == "content\n"
    assert list(folder.iterdir()) == [path]
