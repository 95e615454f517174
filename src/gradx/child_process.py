"""Child processes that never outlive gradx (stdlib only; no gradx imports, see ``_harness.py``).

Every child that runs the user's code (the ``gradx check`` worker, the ``explain-error --run``
harness, the ``gradx graph FILE::NAME`` worker) is started by :func:`start` in its own session,
so it and everything the user's code spawns form one process group that gradx kills as a
whole on every exit path. Two guards cover the case where gradx itself is killed (even with
``kill -9``), when it can clean up nothing:

* the child asks Linux for a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so
  the kernel kills it when gradx goes;
* :func:`guard` forks a tiny *reaper* before any user code runs. It holds the read end of a
  "lifeline" pipe whose write end only gradx holds; the pipe reads EOF the moment gradx exits
  or closes it, whatever the cause, and the reaper then kills the child's whole process group
  (the user's subprocesses included) and removes the child's scratch folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

LIFELINE_ENV = "GRADX_LIFELINE_FD"
PARENT_ENV = "GRADX_PARENT_PID"
CLEANUP_ENV = "GRADX_CLEANUP_DIR"
_PR_SET_PDEATHSIG = 1
_PARENT_GONE = 1  # exit status of a child whose gradx is already gone
_REAPER_DONE = 0


def signal_text(number: int) -> str:
    """A signal's name and its likely cause: "SIGKILL (out of memory, or killed from outside)"."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    why = SIGNAL_CAUSES.get(name)
    return f"{name} ({why})" if why else name


SIGNAL_CAUSES = {
    "SIGKILL": "out of memory, or killed from outside",
    "SIGSEGV": "a segmentation fault: a crash in compiled code",
    "SIGABRT": "an abort: a failed assertion or allocation in compiled code",
    "SIGBUS": "a bus error: bad memory access in compiled code",
    "SIGFPE": "an arithmetic fault in compiled code",
    "SIGILL": "an illegal instruction: a library built for another CPU",
    "SIGTERM": "asked to stop from outside",
    "SIGINT": "interrupted",
    "SIGHUP": "its terminal closed",
    "SIGXCPU": "its CPU time limit ran out",
}


class Child:
    """A child process in its own session, and the lifeline that ends it when gradx goes."""

    def __init__(self, process: subprocess.Popen, lifeline: int) -> None:
        self.process = process
        self.pid = process.pid
        self._lifeline: int | None = lifeline
        self._killed = False

    def kill_group(self, *, keep_lifeline: bool = False) -> None:
        """Kill the child and every process in its group, close the lifeline, reap the child.

        ``keep_lifeline``: leave the reaper waiting (it removes the scratch folder when the
        lifeline closes, so close it only once gradx is done with that folder).
        """
        if not self._killed:
            self._killed = True
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        if not keep_lifeline:
            self.close_lifeline()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)

    def close_lifeline(self) -> None:
        """Let the reaper go: it kills whatever is left of the group, then exits."""
        if self._lifeline is not None:
            with contextlib.suppress(OSError):
                os.close(self._lifeline)
            self._lifeline = None


def start(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cleanup_dir: str | None = None,
    **popen: Any,
) -> Child:
    """Start ``command`` in a new session with a lifeline (see the module docstring)."""
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, False)
    environment = dict(os.environ if env is None else env)
    environment[LIFELINE_ENV] = str(read_end)
    environment[PARENT_ENV] = str(os.getpid())
    environment.pop(CLEANUP_ENV, None)
    if cleanup_dir is not None:
        environment[CLEANUP_ENV] = cleanup_dir
    try:
        process = subprocess.Popen(
            list(command),
            env=environment,
            start_new_session=True,
            pass_fds=(read_end,),
            **popen,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return Child(process, write_end)


def guard() -> None:
    """In the child, before any user code: parent-death signal and the reaper (Linux/POSIX)."""
    parent = int(os.environ.pop(PARENT_ENV, "0") or 0)
    fd_text = os.environ.pop(LIFELINE_ENV, "")
    cleanup = os.environ.pop(CLEANUP_ENV, None)
    _set_parent_death_signal()
    if parent and os.getppid() != parent:  # gradx died before the signal was armed
        os._exit(_PARENT_GONE)
    if not fd_text or not hasattr(os, "fork"):
        return
    lifeline = int(fd_text)
    group = os.getpgrp()
    pid = os.fork()
    if pid == 0:  # the reaper: no imports, no threads, nothing but wait, kill and clean
        try:
            os.setpgid(0, 0)  # out of the group it is about to kill
            _drop_descriptors(keep=lifeline)
            while True:
                try:
                    if not os.read(lifeline, 1):
                        break
                except InterruptedError:
                    continue
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
            if cleanup:
                for _ in range(3):
                    shutil.rmtree(cleanup, ignore_errors=True)
        finally:
            os._exit(_REAPER_DONE)
    os.close(lifeline)


def _drop_descriptors(keep: int) -> None:
    # The reaper must not hold the child's pipes open: gradx reads EOF on them when it dies.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    for low, high in ((3, keep), (keep + 1, 1 << 16)):
        if low < high:
            os.closerange(low, high)


def _set_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: the reaper still covers it
        pass
