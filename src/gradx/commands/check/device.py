"""``--device``: where the user's code runs (cpu, cuda, cuda:N, mps); gradx's numerics stay on cpu.

``parse_device`` is stdlib only (the parent validates the option before any worker starts);
``require_device`` and ``on_device`` import torch and run in the worker.

The user's function sees its tensors on the device; inputs are drawn on the cpu (so a seed
gives the same inputs everywhere), moved to the device for each call, and the outputs moved
back. The moves are differentiable, so autograd runs the user's backward on the device too.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from gradx.errors import GradxError

DEVICES = ("cpu", "cuda", "mps")
_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def parse_device(text: str) -> str:
    """``cpu``, ``cuda``, ``cuda:1`` or ``mps``; GradxError (exit 2) for anything else."""
    name = text.strip().lower()
    if not _DEVICE.fullmatch(name):
        shown = text if text and text.isprintable() and " " not in text else repr(text)
        raise GradxError(f"--device {shown}: use cpu, cuda (or cuda:N) or mps")
    return name


def require_device(name: str) -> None:
    """GradxError (exit 2) with one line when this machine's torch cannot use ``name``."""
    import torch

    if name == "cpu":
        return
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "no CUDA GPU visible"
            raise GradxError(
                f"--device {name}: CUDA is not available here (torch {torch.__version__}, "
                f"{build}); use --device cpu"
            )
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise GradxError(
                f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        return
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        raise GradxError(
            f"--device {name}: Apple's MPS is not available here (torch {torch.__version__}); "
            "use --device cpu"
        )


def to_device(value: Any, device: Any) -> Any:
    """``value`` with every tensor in it (also in tuples, lists and dicts) moved to ``device``."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*(to_device(v, device) for v in value))
    if isinstance(value, tuple | list):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def on_device(inputs: Any, device: str) -> Any:
    """The same ``Inputs`` (see ``gradx.user_script.inputs``), calling the target on ``device``.

    The differentiated tensors are kept on the cpu (also when they were given on a device);
    each call moves them to the device and moves the outputs back, so the finite differences
    and comparisons run unchanged.
    """
    import copy

    if device == "cpu" and all(t.device.type == "cpu" for t in inputs.tensors):
        return inputs
    on_cpu = [t.detach().cpu() for t in inputs.tensors]
    # A copy: the caller's module (gradx.check(module, ...)) is not moved behind its back.
    module = copy.deepcopy(inputs.module).to(device) if inputs.module is not None else None
    fn = module if module is not None else inputs.fn
    moved = replace(
        inputs,
        fn=fn,
        module=module,
        tensors=on_cpu,
        args=to_device(list(inputs.args), device),
        kwargs=to_device(dict(inputs.kwargs), device),
    )
    plain_call = moved.call

    def call(tensors: Any = None) -> Any:
        tensors = moved.tensors if tensors is None else list(tensors)
        return to_device(plain_call([t.to(device) for t in tensors]), "cpu")

    moved.call = call
    return moved


def device_of(values: Any) -> str:
    """The device of the tensors among ``values`` when they all share one, else ``cpu``."""
    import torch

    found = {
        str(v.device) for v in values if isinstance(v, torch.Tensor) and v.device.type != "meta"
    }
    return found.pop() if len(found) == 1 else "cpu"
