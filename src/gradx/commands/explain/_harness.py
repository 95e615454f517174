"""Child-process side of ``gradx explain-error --run``: run a script and report what it raised.

Started as ``python _harness.py REPORT SCRIPT [ARGS...]`` by ``runner.py``. It runs SCRIPT as
``python SCRIPT ARGS...`` would (``__main__``, ``sys.argv``, ``sys.path[0]``), and appends one
JSON object per line to REPORT: each warning as it is shown, then the exception that ended the
script, or how it exited. Writing as it goes means that warnings survive a time-out kill.

It imports nothing from gradx and nothing heavy: torch is imported only when the parent asks
for anomaly detection (``GRADX_EXPLAIN_ANOMALY=1``) or when the script imports it itself.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import sysconfig
import traceback
import warnings

MAX_MESSAGE = 64 * 1024
MAX_WARNINGS = 200
MAX_LOCALS = 40
_HERE = os.path.dirname(os.path.abspath(__file__))


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(_HERE)
    return tuple(os.path.normcase(os.path.abspath(root)) + os.sep for root in roots if root)


_LIBRARY_ROOTS = _library_roots()


def is_library(filename: str) -> bool:
    """True for frames in the standard library, site-packages, torch or this harness."""
    if not filename or filename.startswith("<frozen") or filename == "<string>":
        return True
    path = os.path.normcase(os.path.abspath(filename))
    return path.startswith(_LIBRARY_ROOTS)


def _frame(summary: traceback.FrameSummary) -> dict:
    return {
        "file": summary.filename,
        "line": summary.lineno or 0,
        "function": summary.name,
        "source": (summary.line or "").strip(),
        "library": is_library(summary.filename),
    }


def _frames(summaries: list[traceback.FrameSummary]) -> list[dict]:
    frames = [_frame(s) for s in summaries]
    # Drop the harness and runpy frames that sit above the user's module.
    first_user = next((i for i, f in enumerate(frames) if not f["library"]), 0)
    return frames[first_user:]


def _tensor_facts(namespace: dict) -> dict:
    """dtype, shape and autograd flags of the tensors (and modules) in the failing frame."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    facts: dict[str, dict] = {}
    for name, value in list(namespace.items())[:500]:
        if len(facts) >= MAX_LOCALS or name.startswith("__"):
            continue
        try:
            if isinstance(value, torch.Tensor):
                grad_fn = value.grad_fn
                facts[name] = {
                    "dtype": str(value.dtype),
                    "shape": list(value.shape),
                    "requires_grad": bool(value.requires_grad),
                    "is_leaf": bool(value.is_leaf),
                    "grad_fn": type(grad_fn).__name__ if grad_fn is not None else None,
                }
            elif isinstance(value, torch.nn.Module):
                params = list(value.parameters())
                facts[name] = {
                    "module": type(value).__name__,
                    "parameters": len(params),
                    "trainable": sum(1 for p in params if p.requires_grad),
                }
        except Exception:  # noqa: BLE001 - a strange object must not hide the real error
            continue
    return facts


def _exception_event(exc: BaseException) -> dict:
    summaries = traceback.extract_tb(exc.__traceback__)
    frames = _frames(summaries)
    user_locals: dict = {}
    tb = exc.__traceback__
    while tb is not None:
        if not is_library(tb.tb_frame.f_code.co_filename):
            user_locals = tb.tb_frame.f_locals
        tb = tb.tb_next
    chain: list[dict[str, str]] = []
    seen = {id(exc)}
    link = exc.__cause__ or exc.__context__
    while link is not None and id(link) not in seen and len(chain) < 5:
        seen.add(id(link))
        chain.append({"type": type(link).__name__, "message": str(link)[:MAX_MESSAGE]})
        link = link.__cause__ or link.__context__
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - __str__ of user exceptions can fail
        message = "<unprintable>"
    return {
        "event": "exception",
        "type": type(exc).__name__,
        "module": type(exc).__module__,
        "message": message[:MAX_MESSAGE],
        "frames": frames,
        "chain": chain,
        "locals": _tensor_facts(user_locals),
    }


def _guard() -> None:
    """Die with gradx, and take the script's subprocesses along (``gradx/child_process.py``).

    Loaded from its file rather than imported, so that ``gradx`` is not in the script's
    ``sys.modules``.
    """
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.dirname(_HERE)), "child_process.py")
    spec = importlib.util.spec_from_file_location("_gradx_child_process", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with gradx
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.guard()


def main(argv: list[str]) -> int:
    """Run the script named in ``argv`` and report to the file named there."""
    _guard()
    report_path, script, *args = argv
    report = open(report_path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run

    def emit(event: dict) -> None:
        report.write(json.dumps(event, default=str) + "\n")
        report.flush()

    shown = 0
    original_showwarning = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        nonlocal shown
        if shown < MAX_WARNINGS:
            shown += 1
            stack = traceback.extract_stack()[:-1]
            emit(
                {
                    "event": "warning",
                    "category": getattr(category, "__name__", str(category)),
                    "message": str(message)[:MAX_MESSAGE],
                    "file": filename,
                    "line": lineno,
                    "frames": _frames(stack),
                }
            )
        original_showwarning(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning
    warnings.simplefilter("default")
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    if os.environ.get("GRADX_EXPLAIN_ANOMALY") == "1":
        import torch

        torch.autograd.set_detect_anomaly(True, check_nan=True)
        emit({"event": "anomaly", "enabled": True})
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        emit({"event": "exit", "code": code})
        raise
    except BaseException as exc:  # noqa: BLE001 - report everything the script raised
        emit(_exception_event(exc))
        traceback.print_exc()
        return 1
    emit({"event": "exit", "code": 0})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
