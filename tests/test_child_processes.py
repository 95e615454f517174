"""Child processes die with gradx: on normal exit, time-out, SIGTERM, SIGHUP and SIGKILL, with
the processes the user's code started (issue 12, items 5-7).

gradx runs as a real subprocess on a script that starts a ``sleep`` and then loops. The test
records the session ids of gradx's descendants (each child runs in its own session), signals
gradx, and then waits (bounded) until no live process is left in those sessions. Processes
are found through /proc (parent ids and session ids), never by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

SRC = Path(__file__).parents[1] / "src"
WAIT = 300  # seconds: generous bounds for a loaded machine; never a timing assertion

LOOPING_TARGET = """
import subprocess, sys, time
from pathlib import Path

def spin(x):
    sleeper = subprocess.Popen(["sleep", "600"])
    Path({ready!r}).write_text(str(sleeper.pid))
    while True:
        time.sleep(0.05)
"""

LOOPING_SCRIPT = """
import subprocess, time
from pathlib import Path

sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(3)]
Path({ready!r}).write_text(" ".join(str(s.pid) for s in sleepers))
while True:
    time.sleep(0.05)
"""


def stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...


def live_processes() -> dict[int, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and fields[0] not in ("Z", "X"):
                found[int(entry)] = fields
    return found


def descendants(pid: int) -> set[int]:
    processes = live_processes()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, f in processes.items() if int(f[1]) in frontier} - found
        found |= frontier
    return found


def sessions_of(pids: set[int]) -> set[int]:
    own = os.getsid(0)
    result = set()
    for pid in pids:
        fields = stat_fields(pid)
        if fields is not None and int(fields[3]) != own:
            result.add(int(fields[3]))
    return result


def wait_until_gone(sessions: set[int]) -> list[int]:
    deadline = time.monotonic() + WAIT
    while True:
        left = [p for p, f in live_processes().items() if int(f[3]) in sessions]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def wait_for_file(path: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + WAIT
    while not (path.exists() and path.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the script never started"
        time.sleep(0.05)
    return path.read_text()


def start_gradx(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "gradx", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_check_worker_and_its_subprocesses_die_with_gradx(tmp_path, sig):
    ready = tmp_path / "ready"
    script = tmp_path / "looping.py"
    script.write_text(LOOPING_TARGET.format(ready=str(ready)))
    process = start_gradx(["check", str(script), "--timeout", "600"], tmp_path)
    sleeper = int(wait_for_file(ready, process))
    family = descendants(process.pid)
    assert sleeper in family
    sessions = sessions_of(family)
    assert sessions, "the worker runs in a session of its own"
    process.send_signal(sig)
    code, _, _ = finish(process)
    assert code == (-sig if sig == signal.SIGKILL else 128 + sig)
    assert wait_until_gone(sessions) == []


def test_check_timeout_kills_what_the_target_started(tmp_path):
    ready = tmp_path / "ready"
    script = tmp_path / "looping.py"
    script.write_text(LOOPING_TARGET.format(ready=str(ready)))
    process = start_gradx(["check", str(script), "--timeout", "5"], tmp_path)
    sleeper = int(wait_for_file(ready, process))
    sessions = sessions_of({sleeper})
    code, out, _ = finish(process)
    assert code == 1 and "TIMEOUT" in out
    assert wait_until_gone(sessions) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_explain_run_script_and_its_children_die_with_gradx(tmp_path, sig):
    ready = tmp_path / "ready"
    script = tmp_path / "forks.py"
    script.write_text(LOOPING_SCRIPT.format(ready=str(ready)))
    process = start_gradx(["explain-error", "--run", str(script), "--timeout", "600"], tmp_path)
    sleepers = {int(p) for p in wait_for_file(ready, process).split()}
    sessions = sessions_of(sleepers)
    assert sessions
    process.send_signal(sig)
    finish(process)
    assert wait_until_gone(sessions) == []
    deadline = time.monotonic() + WAIT  # the scratch folder goes too, even after kill -9
    while list((tmp_path / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_explain_run_normal_exit_ends_the_scripts_children(tmp_path):
    ready = tmp_path / "ready"
    script = tmp_path / "forks_and_ends.py"
    script.write_text(
        "import os, subprocess\nfrom pathlib import Path\n"
        "s = [subprocess.Popen(['sleep', '600']) for _ in range(3)]\n"
        f"Path({str(ready)!r}).write_text(str(os.getsid(0)))\n"
    )
    process = start_gradx(["explain-error", "--run", str(script)], tmp_path)
    code, _, _ = finish(process)
    assert code == 1  # ran to the end: nothing to explain
    session = int(ready.read_text())
    assert session != os.getsid(0)
    assert wait_until_gone({session}) == []


def test_graph_target_that_never_returns_is_stopped(tmp_path):
    ready = tmp_path / "ready"
    script = tmp_path / "looping.py"
    script.write_text(LOOPING_TARGET.format(ready=str(ready)))
    process = start_gradx(["graph", f"{script}::spin", "--timeout", "5"], tmp_path)
    sleeper = int(wait_for_file(ready, process))
    sessions = sessions_of({sleeper})
    code, _, err = finish(process)
    assert code == 1
    assert "did not finish within 5 s (--timeout)" in err
    assert wait_until_gone(sessions) == []


def test_a_killed_script_is_named_with_its_signal(run_cli, tmp_path):
    script = tmp_path / "dies.py"
    script.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    result = run_cli("explain-error", "--run", str(script))
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert "killed by SIGKILL (out of memory, or killed from outside)" in text


def test_a_check_target_killed_by_a_signal_is_named(run_cli, tmp_path):
    script = tmp_path / "dies.py"
    script.write_text(
        "import os, signal\n\ndef boom(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = run_cli("check", str(script), "--json")
    assert result.exit_code == 1
    assert "killed by SIGKILL (out of memory, or killed from outside)" in result.stdout


def test_importing_the_file_is_under_the_timeout(run_cli, tmp_path):
    script = tmp_path / "slow_import.py"
    script.write_text("import time\nwhile True:\n    time.sleep(0.05)\n\ndef f(x):\n    return x\n")
    result = run_cli("check", str(script), "--timeout", "3")
    assert result.exit_code == 2
    assert "did not finish within 3 s (--timeout)" in result.stderr


def test_the_worker_is_ready_before_any_limit_starts():
    from gradx import child_process
    from gradx.commands.check import protocol

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = child_process.start(
        [sys.executable, "-m", "gradx.commands.check.worker", "0"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert protocol.receive(child.process.stdout) == ("ready",)
        assert os.getsid(child.pid) == child.pid  # a session of its own
    finally:
        child.kill_group()
        child.process.stdin.close()
        child.process.stdout.close()
