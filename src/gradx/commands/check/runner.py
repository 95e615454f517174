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
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import IO, Any

from gradx import child_process
from gradx.child_process import signal_text
from gradx.commands.check import protocol
from gradx.commands.check.model import (
    CheckReport,
    ErrorInfo,
    Settings,
    TargetInfo,
    TargetResult,
    Verdict,
)
from gradx.errors import ExitCode, GradxError
from gradx.user_script.spec import InputSpec, check_file

DEFAULT_TIMEOUT = 20.0  # per target: about what a learner waits for an endless loop
# The worker's own imports (torch, gradx) before it says "ready": not the user's time, so not
# counted by --timeout; this only bounds a start-up that hangs.
STARTUP_TIMEOUT = 600.0
_TICK = 0.1


class _Gone(Enum):
    """What ``_Worker.wait`` returns instead of a message."""

    EOF = "the worker's output ended (it died or closed it)"
    TIMEOUT = "no message within the time limit"


Event = tuple[Any, ...]
Message = tuple[Any, ...]  # what the worker sends (gradx.commands.check.protocol)


class _Worker:
    """A running worker process (its own process group) and a thread that queues what it sends.

    The worker imports torch and gradx's machinery first and then says ``("ready",)``: only
    after that does any time limit start, so ``--timeout`` counts the user's code alone.
    """

    def __init__(self, memory: int | None, *, show_stderr: bool = False) -> None:
        env = dict(os.environ)
        source_root = str(Path(__file__).resolve().parents[3])  # src/, above gradx/commands/check
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
        self._stderr = tempfile.TemporaryFile()
        self.memory = memory
        self.child = child_process.start(
            [sys.executable, "-m", "gradx.commands.check.worker", str(memory or 0)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if show_stderr else self._stderr,
        )
        self.proc = self.child.process
        if self.proc.stdin is None or self.proc.stdout is None:  # started with PIPE: never
            raise RuntimeError("the check worker was started without its pipes")
        self._stdin: IO[bytes] = self.proc.stdin
        self._stdout: IO[bytes] = self.proc.stdout
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self._stdout
        try:
            while True:
                self._queue.put(protocol.receive(stream))
        except (EOFError, OSError, ValueError):
            self._queue.put(_Gone.EOF)
        except Exception:  # noqa: BLE001 - a garbled message means the worker broke
            self._queue.put(_Gone.EOF)

    def send(self, message: tuple) -> bool:
        """Send a command; False when the worker has already gone."""
        try:
            protocol.send(self._stdin, message)
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def wait(
        self, timeout: float | None, tick: Callable[[], None] | None = None
    ) -> Message | _Gone:
        """The next message; ``_Gone.TIMEOUT`` after ``timeout`` seconds, ``_Gone.EOF`` if it died."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return _Gone.TIMEOUT
            try:
                return self._queue.get(
                    timeout=_TICK if remaining is None else min(_TICK, remaining)
                )
            except queue.Empty:
                if tick is not None:
                    tick()

    def kill(self) -> None:
        """Stop the worker and everything the user's code started, now."""
        self.child.kill_group()
        self._finish()

    def close(self) -> None:
        """Ask the worker to quit, then end its process group (the user's leftovers too)."""
        if self.proc.poll() is None:
            self.send(("quit",))
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.child.kill_group()
        self._finish()

    def _finish(self) -> None:
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
            self.child.kill_group()
            code = self.proc.wait()
        if code is not None and code < 0:
            text = f"the Python process running it was killed by {signal_text(-code)}"
        else:
            text = f"the Python process running it exited with status {code}"
        if self.memory:
            text += f" (its memory limit was {format_bytes(self.memory)}: --memory)"
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


def format_bytes(size: float) -> str:
    """``8589934592`` → ``"8 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} TiB"  # pragma: no cover


def default_memory() -> int | None:
    """The worker's default memory limit: half of this machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def run_file(
    path: Path,
    name: str | None,
    spec: InputSpec,
    settings: Settings,
    *,
    on_event: Callable[[Event], None] | None = None,
    memory: int | None = None,
) -> CheckReport:
    """Check the targets of ``path`` (or only ``name``), each within ``settings.timeout``.

    Importing the file has the same limit as one target. ``memory`` caps the worker's data
    memory in bytes (None: no cap).
    """
    check_file(path)
    _check_syntax(path)
    start = time.perf_counter()
    emit = on_event or (lambda event: None)

    def tick() -> None:
        emit(("tick",))

    load = ("load", str(path), name, spec, settings)
    worker: _Worker | None
    worker, infos, skipped = _start(path, load, settings.timeout, tick, memory)
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
                worker, _, _ = _start(path, load, settings.timeout, tick, memory)
            result, healthy = _run_one(worker, info, settings.timeout, tick)
            if not healthy:
                worker.kill()
                worker = None
            results.append(result)
            emit(("done", index, len(infos), result))
    except BaseException:  # errors, Ctrl-C, SIGTERM/SIGHUP: the worker goes at once
        if worker is not None:
            worker.kill()
        raise
    if worker is not None:
        worker.close()
    return CheckReport(
        targets=tuple(results),
        settings=settings,
        file=str(path),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - start,
    )


def run_graph(
    target: str,
    options: dict[str, Any],
    *,
    timeout: float | None,
    memory: int | None = None,
) -> Any:
    """``gradx graph FILE::NAME`` in a worker: the AutogradGraph, within ``timeout`` seconds.

    ``options`` are the keyword arguments of ``gradx.commands.graph.sources.script_graph``.
    Loading the file and tracing the target share the one limit; the user's prints go to
    stderr. A target that runs too long or kills its process is a GradxError with exit 1.
    """
    worker = _Worker(memory, show_stderr=True)
    try:
        reply = worker.wait(STARTUP_TIMEOUT)
        if reply is _Gone.TIMEOUT:
            raise GradxError(f"the graph worker did not start within {STARTUP_TIMEOUT:g} s")
        if reply is not _Gone.EOF:
            message = ("graph", target, options)
            reply = worker.wait(timeout) if worker.send(message) else _Gone.EOF
        if reply is _Gone.TIMEOUT:
            raise GradxError(
                f"{target} did not finish within {timeout:g} s (--timeout)",
                exit_code=ExitCode.FAILED,
            )
        if reply is _Gone.EOF:
            raise GradxError(
                f"{target} did not finish: {worker.crash_text()}", exit_code=ExitCode.FAILED
            )
        if reply[0] == "graph_error":
            raise GradxError(reply[1], detail=tuple(reply[2]), exit_code=ExitCode(reply[3]))
        graph = reply[1]
    except BaseException:
        worker.kill()
        raise
    worker.close()
    return graph


def _start(
    path: Path, load: tuple, load_timeout: float | None, tick, memory: int | None
) -> tuple[_Worker, list, list]:
    worker = _Worker(memory)
    try:
        return _load(worker, path, load, load_timeout, tick)
    except BaseException:
        worker.kill()
        raise


def _load(
    worker: _Worker, path: Path, load: tuple, load_timeout: float | None, tick
) -> tuple[_Worker, list, list]:
    # gradx's own start-up (torch) is not timed by --timeout, only bounded against a hang.
    reply = worker.wait(STARTUP_TIMEOUT, tick)
    if reply is _Gone.TIMEOUT:
        raise GradxError(
            f"the check worker did not start within {STARTUP_TIMEOUT:g} s (importing torch)"
        )
    if reply is not _Gone.EOF and reply[0] == "ready":
        reply = worker.wait(load_timeout, tick) if worker.send(load) else _Gone.EOF
    if reply is _Gone.TIMEOUT:
        worker.kill()
        raise GradxError(
            f"importing {path.name} did not finish within {load_timeout:g} s (--timeout)"
        )
    if reply is _Gone.EOF:
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
    reply = worker.wait(timeout, tick) if sent else _Gone.EOF
    seconds = time.perf_counter() - began
    if reply is _Gone.TIMEOUT:
        return (
            TargetResult(
                info.name, info.kind, info.line, Verdict.TIMEOUT, timeout=timeout, seconds=seconds
            ),
            False,
        )
    if reply is _Gone.EOF:
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
