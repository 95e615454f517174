"""The worker process of ``gradx check``: imports torch and the user's file once, checks targets.

Started by ``runner.py`` as ``python -m gradx.commands.check.worker MEMORY`` in its own process
group (``gradx.child_process``). It first imports torch and gradx's machinery and sends
``("ready",)``: the parent starts a time limit only after that, so limits count the user's code
alone. Then it caps its own data memory at MEMORY bytes (0: no cap), so that a target that
allocates without bound fails with that target's ERROR instead of taking the machine. It reads
commands from stdin and answers on what was stdout; the user's prints go to stderr instead, so
they cannot corrupt the messages. Commands (pickled tuples):

* ``("load", path, name, spec, settings)`` → ``("loaded", [TargetInfo], skipped)`` or
  ``("load_error", message, detail)``;
* ``("check", name)`` → ``("result", TargetResult)``;
* ``("graph", target, options)`` (``gradx graph FILE::NAME``; options of ``script_graph``) →
  ``("graph", AutogradGraph)`` or ``("graph_error", message, detail, exit_code)``;
* ``("quit",)``.

The parent enforces time limits by killing this process, so nothing here needs a timer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Serve commands until the parent says quit or closes stdin."""
    from gradx.child_process import guard

    guard()  # before anything else: die with gradx, and take the user's subprocesses along
    memory = int(argv[0]) if argv else 0
    channel = os.fdopen(os.dup(1), "wb")
    commands = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)  # the user's print() now goes to stderr
    # input() in the user's file must not read the commands: give it an empty stdin.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    from gradx.commands.check import protocol

    _import_machinery()
    _limit_memory(memory)
    protocol.send(channel, ("ready",))
    state: dict = {"memory": memory}
    while True:
        try:
            command = protocol.receive(commands)
        except EOFError:
            return 0
        if command[0] == "quit":
            return 0
        if command[0] == "load":
            protocol.send(channel, _load(state, *command[1:]))
        elif command[0] == "check":
            protocol.send(channel, _check(state, command[1]))
        elif command[0] == "graph":
            protocol.send(channel, _graph(*command[1:]))


def _import_machinery() -> None:
    """Everything a check needs but the user's file: imported before the clock starts."""
    import torch  # noqa: F401

    import gradx.commands.check.engine  # noqa: F401
    import gradx.commands.check.session  # noqa: F401
    from gradx.commands.graph import preload

    preload()  # gradx graph FILE::NAME runs here too
    import gradx.user_script.inputs  # noqa: F401
    import gradx.user_script.targets  # noqa: F401


def _limit_memory(limit: int) -> None:
    """Cap the data memory (heap and anonymous maps) of this process at ``limit`` bytes."""
    if limit <= 0:
        return
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ImportError, ValueError, OSError):  # not POSIX, or not allowed: run without a cap
        pass


def out_of_memory(error) -> bool:  # noqa: ANN001 - an ErrorInfo
    """Whether a target's error is an allocation that failed."""
    return error is not None and (
        error.type == "MemoryError"
        or "can't allocate memory" in error.message
        or "Cannot allocate memory" in error.message
    )


def _load(state: dict, path: str, name: str | None, spec, settings) -> tuple:
    from gradx.commands.check.model import TargetInfo
    from gradx.errors import GradxError
    from gradx.user_script.targets import find_targets, load_module, select

    try:
        _require_device(settings)
        module = load_module(Path(path))
        found = find_targets(module)
        targets = [select(found, name)] if name else list(found.targets)
        reference = _load_reference(settings, found)
    except GradxError as error:
        return ("load_error", error.message, error.detail)
    state.update(targets={t.name: t for t in targets}, spec=spec, settings=settings)
    state["reference"] = reference
    infos = [
        TargetInfo(t.name, t.kind, t.line, tuple(p.name for p in t.params), t.tensor_params)
        for t in targets
    ]
    return ("loaded", infos, found.skipped if not name else ())


def _require_device(settings) -> None:
    device = getattr(settings, "device", "cpu")
    if device != "cpu":
        from gradx.commands.check.device import require_device

        require_device(device)


def _load_reference(settings, found):
    if not getattr(settings, "against", None):
        return None
    from gradx.commands.check.reference_check import load_reference

    return load_reference(settings.against, found)


def _check(state: dict, name: str) -> tuple:
    from gradx.commands.check.session import check_target, flush_streams

    if state.get("reference") is not None:
        from gradx.commands.check.reference_check import check_against

        result = check_against(
            state["targets"][name], state["reference"], state["spec"], state["settings"]
        )
    else:
        result = check_target(state["targets"][name], state["spec"], state["settings"])
    flush_streams()
    if state["memory"] and result.error is not None and out_of_memory(result.error):
        import dataclasses

        from gradx.commands.check.runner import format_bytes

        first = result.error.message.strip().splitlines()[0] if result.error.message else ""
        message = (
            f"out of memory: the check needs more than the worker's limit of "
            f"{format_bytes(state['memory'])} (raise it with --memory, or check a smaller "
            f"--shape)" + (f"; {first[:200]}" if first else "")
        )
        error = dataclasses.replace(result.error, type="MemoryError", message=message)
        result = dataclasses.replace(result, error=error)
    return ("result", result)


def _graph(target: str, options: dict) -> tuple:
    from gradx.commands.graph import script_graph
    from gradx.errors import ExitCode, GradxError

    try:
        return ("graph", script_graph(target, **options))
    except GradxError as error:
        return ("graph_error", error.message, error.detail, int(error.exit_code))
    except MemoryError:
        return ("graph_error", f"{target}: out of memory", (), int(ExitCode.FAILED))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
