"""The worker process of ``gradx check``: imports torch and the user's file once, checks targets.

Started by ``runner.py`` as ``python -m gradx.commands.check.worker``. It reads commands from stdin and
answers on what was stdout; the user's prints go to stderr instead, so they cannot corrupt the
messages. Commands (pickled tuples):

* ``("load", path, name, spec, settings)`` → ``("loaded", [TargetInfo], skipped)`` or
  ``("load_error", message, detail)``;
* ``("check", name)`` → ``("result", TargetResult)``;
* ``("quit",)``.

The parent enforces time limits by killing this process, so nothing here needs a timer.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> int:
    """Serve commands until the parent says quit or closes stdin."""
    channel = os.fdopen(os.dup(1), "wb")
    commands = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)  # the user's print() now goes to stderr
    # input() in the user's file must not read the commands: give it an empty stdin.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    from gradx.commands.check import protocol

    state: dict = {}
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
    return ("result", result)


if __name__ == "__main__":
    sys.exit(main())
