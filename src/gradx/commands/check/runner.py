"""The parent side of ``gradx check FILE``: one worker process per file, with a watchdog.

The worker imports torch and the user's file once and checks the targets in turn. The parent
(this module, which never imports torch) sends one target at a time and waits at most
``timeout`` seconds for its result. A target that does not finish is reported as ``timeout``;
a worker that dies (segfault, out-of-memory kill) turns its target into an ``error``. Either
way the worker is replaced by a fresh one and the remaining targets are still checked.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradx.commands.check import protocol
from gradx.commands.check.model import (
    CheckReport,
    ErrorInfo,
    Settings,
    TargetInfo,
    TargetResult,
    Verdict,
)
from gradx.errors import GradxError
from gradx.user_script.spec import InputSpec, check_file

DEFAULT_TIMEOUT = 20.0  # per target: about what a learner waits for an endless loop
LOAD_TIMEOUT = 120.0  # importing torch and the user's file; not part of any target's limit
_TICK = 0.1
_EOF = object()
_TIMEOUT = object()

Event = tuple[Any, ...]


class _Worker:
    """A running worker process and a thread that queues what it sends."""

    def __init__(self) -> None:
        env = dict(os.environ)
        source_root = str(Path(__file__).resolve().parents[3])  # src/, above gradx/commands/check
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gradx.commands.check.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self.proc.stdout
        try:
            while True:
                self._queue.put(protocol.receive(stream))
        except (EOFError, OSError, ValueError):
            self._queue.put(_EOF)
        except Exception:  # noqa: BLE001 - a garbled message means the worker broke
            self._queue.put(_EOF)

    def send(self, message: tuple) -> bool:
        """Send a command; False when the worker has already gone."""
        try:
            protocol.send(self.proc.stdin, message)
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def wait(self, timeout: float | None, tick: Callable[[], None] | None = None) -> Any:
        """The next message, ``_TIMEOUT`` after ``timeout`` seconds, or ``_EOF`` if it died."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return _TIMEOUT
            try:
                return self._queue.get(
                    timeout=_TICK if remaining is None else min(_TICK, remaining)
                )
            except queue.Empty:
                if tick is not None:
                    tick()

    def kill(self) -> None:
        """Stop the worker now."""
        if self.proc.poll() is None:
            self.proc.kill()
        self._finish()

    def close(self) -> None:
        """Ask the worker to quit, and kill it if it does not."""
        if self.proc.poll() is None:
            self.send(("quit",))
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._finish()

    def _finish(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill never fails on POSIX
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._stderr.close()

    def crash_text(self) -> str:
        """Why the worker died, in words, with the last line it wrote to stderr."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = {
                "SIGSEGV": "a segmentation fault",
                "SIGKILL": "SIGKILL (out of memory?)",
                "SIGABRT": "an abort",
                "SIGBUS": "a bus error",
            }.get(name, name)
            text = f"the Python process running it died of {why}"
        else:
            text = f"the Python process running it exited with status {code}"
        tail = self._stderr_tail()
        return f"{text}: {tail}" if tail else text

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 4096))
            text = self._stderr.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""


def run_file(
    path: Path,
    name: str | None,
    spec: InputSpec,
    settings: Settings,
    *,
    on_event: Callable[[Event], None] | None = None,
    load_timeout: float = LOAD_TIMEOUT,
) -> CheckReport:
    """Check the targets of ``path`` (or only ``name``), each within ``settings.timeout``."""
    check_file(path)
    _check_syntax(path)
    start = time.perf_counter()
    emit = on_event or (lambda event: None)

    def tick() -> None:
        emit(("tick",))

    load = ("load", str(path), name, spec, settings)
    worker, infos, skipped = _start(path, load, load_timeout, tick)
    try:
        if not infos:
            detail = tuple(f"  {n}: {why}" for n, why in skipped)
            raise GradxError(
                f"no targets in {path.name}: define a top-level function, a "
                "torch.autograd.Function or an nn.Module (see docs/check.md)",
                detail=detail,
            )
        _check_spec_names(spec, infos, path)
        results: list[TargetResult] = []
        for index, info in enumerate(infos):
            emit(("start", index, len(infos), info.name))
            if worker is None:
                worker, _, _ = _start(path, load, load_timeout, tick)
            result, healthy = _run_one(worker, info, settings.timeout, tick)
            if not healthy:
                worker.kill()
                worker = None
            results.append(result)
            emit(("done", index, len(infos), result))
    finally:
        if worker is not None:
            worker.close()
    return CheckReport(
        targets=tuple(results),
        settings=settings,
        file=str(path),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - start,
    )


def _start(path: Path, load: tuple, load_timeout: float, tick) -> tuple[_Worker, list, list]:
    worker = _Worker()
    ok = worker.send(load)
    reply = worker.wait(load_timeout, tick) if ok else _EOF
    if reply is _TIMEOUT:
        worker.kill()
        raise GradxError(f"importing {path.name} did not finish within {load_timeout:g} s")
    if reply is _EOF:
        text = worker.crash_text()
        worker.kill()
        raise GradxError(f"importing {path.name} failed: {text}")
    if reply[0] == "load_error":
        worker.close()
        raise GradxError(reply[1], detail=tuple(reply[2]))
    return worker, list(reply[1]), list(reply[2])


def _run_one(
    worker: _Worker, info: TargetInfo, timeout: float | None, tick
) -> tuple[TargetResult, bool]:
    began = time.perf_counter()
    sent = worker.send(("check", info.name))
    reply = worker.wait(timeout, tick) if sent else _EOF
    seconds = time.perf_counter() - began
    if reply is _TIMEOUT:
        return (
            TargetResult(
                info.name, info.kind, info.line, Verdict.TIMEOUT, timeout=timeout, seconds=seconds
            ),
            False,
        )
    if reply is _EOF:
        error = ErrorInfo("", f"the check did not finish: {worker.crash_text()}")
        return (
            TargetResult(
                info.name, info.kind, info.line, Verdict.ERROR, error=error, seconds=seconds
            ),
            False,
        )
    return reply[1], True


def _check_syntax(path: Path) -> None:
    """Report a syntax error at once, without starting a worker (which imports torch)."""
    from gradx.user_script.targets import syntax_error

    try:
        source = path.read_bytes()
    except OSError as exc:
        raise GradxError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise syntax_error(path, exc) from None
    except ValueError as exc:  # null bytes
        raise GradxError(f"{path.name} is not a Python source file: {exc}") from None


def _check_spec_names(spec: InputSpec, infos: list[TargetInfo], path: Path) -> None:
    known = {p for info in infos for p in info.params}
    unknown = sorted(spec.names() - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise GradxError(
            f"no target in {path.name} has a parameter named {', '.join(unknown)} "
            f"(parameters: {listed})"
        )
