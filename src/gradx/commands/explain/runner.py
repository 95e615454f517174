"""Parent side of ``--run``: start the user's script under ``_harness.py`` with a time limit.

The script runs in its own process (and session, so that every exit path ends the processes
it started too: ``gradx.child_process``), with standard input closed so that it cannot wait for a keyboard, and with
its output going to temporary files of which only the tail is kept. gradx itself never imports
torch here: only the child does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gradx import child_process
from gradx.errors import ExitCode, GradxError

_HARNESS = Path(__file__).with_name("_harness.py")
_TAIL_BYTES = 64 * 1024
_MAX_EVENTS = 1000
MAX_SCRIPT_BYTES = 16 * 2**20


@dataclass(frozen=True)
class ScriptRun:
    """What one execution of the script produced: harness events and the tail of its output."""

    events: tuple[dict, ...]
    returncode: int | None
    timed_out: bool
    stdout_tail: str
    stderr_tail: str

    @property
    def exception(self) -> dict | None:
        """The ``exception`` event, if the script raised one."""
        return next((e for e in self.events if e.get("event") == "exception"), None)

    @property
    def warnings(self) -> tuple[dict, ...]:
        """The ``warning`` events, in the order they were shown."""
        return tuple(e for e in self.events if e.get("event") == "warning")

    @property
    def exit_code(self) -> int | None:
        """The status the script asked for with ``sys.exit`` (or 0 when it ended normally)."""
        event = next((e for e in self.events if e.get("event") == "exit"), None)
        return event.get("code") if event else None


def check_script(path: Path) -> Path:
    """The script path if it is a readable file; otherwise a GradxError with exit code 2."""
    if not path.exists():
        raise GradxError(f"no such file: {path}", exit_code=ExitCode.USAGE)
    if not path.is_file():
        raise GradxError(f"not a file: {path} (give the path of a Python script)")
    if not os.access(path, os.R_OK):
        raise GradxError(f"cannot read {path}: permission denied")
    if path.stat().st_size > MAX_SCRIPT_BYTES:
        raise GradxError(f"{path} is too large for a Python script (over 16 MiB)")
    return path


def run_script(
    script: Path, args: tuple[str, ...], *, timeout: float, anomaly: bool = False
) -> ScriptRun:
    """Run ``python script args…`` under the harness; never waits longer than ``timeout``."""
    child = None
    try:
        with tempfile.TemporaryDirectory(prefix="gradx-explain-") as folder:
            report = Path(folder, "report.jsonl")
            report.touch()
            env = dict(os.environ)
            env["PYTHONUNBUFFERED"] = "1"
            env.pop("GRADX_EXPLAIN_ANOMALY", None)
            if anomaly:
                env["GRADX_EXPLAIN_ANOMALY"] = "1"
            command = [sys.executable, str(_HARNESS), str(report), str(script), *args]
            with (
                open(Path(folder, "stdout"), "w+b") as stdout,
                open(Path(folder, "stderr"), "w+b") as stderr,
            ):
                # cleanup_dir: if gradx is killed outright, the child's reaper removes the folder.
                child = child_process.start(
                    command,
                    env=env,
                    cleanup_dir=folder,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                )
                process = child.process
                timed_out = False
                try:
                    returncode: int | None = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    returncode = None
                finally:  # every exit path, Ctrl-C and SIGTERM too: its processes go
                    child.kill_group(keep_lifeline=True)
                stdout_tail = _tail(stdout)
                stderr_tail = _tail(stderr)
            events = _read_events(report)
    finally:  # the folder is gone: now the reaper may go too
        if child is not None:
            child.close_lifeline()
    return ScriptRun(
        events=events,
        returncode=returncode,
        timed_out=timed_out,
        stdout_tail=stdout_tail,
        stderr_tail=stderr_tail,
    )


def _tail(handle) -> str:  # noqa: ANN001 - a binary file object
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - _TAIL_BYTES))
    return handle.read().decode("utf-8", errors="replace")


def _read_events(report: Path) -> tuple[dict, ...]:
    events: list[dict] = []
    with open(report, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if len(events) >= _MAX_EVENTS:
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a kill
                continue
            if isinstance(event, dict):
                events.append(event)
    return tuple(events)
