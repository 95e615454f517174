"""Where the user's code cuts the autograd graph: ``.detach()``, ``.data``, ``torch.no_grad()``.

Shared by ``gradx graph`` (which marks the cuts, and ``.data`` writes, in the drawn graph) and
``gradx check`` (which names a cut as the cause when autograd misses a dependence that the
finite differences see). ``CutWatcher`` is a torch function mode: while it is active, every
operation that turns a tensor requiring grad into one that doesn't is recorded with the line of
the user's file.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

Tensor = torch.Tensor
# In-place operations: through .data they change a tensor behind autograd's back.
IN_PLACE = ("__iadd__", "__isub__", "__imul__", "__itruediv__", "__setitem__", "copy_")
LEAVING_CALLS = ("item", "tolist", "numpy")  # results that are not tensors at all


@dataclass
class PendingCut:
    """A cut seen while the computation runs; its leaves get their names afterwards."""

    kind: str
    location: str
    code: str
    leaves: list[Tensor]


class CutWatcher(TorchFunctionMode):
    """Notices operations that take a tensor requiring grad and return one that doesn't.

    Their results are "cut" tensors; results computed from cut tensors without grad stay cut, and
    the backward node of any operation that uses one records the cut (``used_cuts``).
    """

    def __init__(self, source_file: str | None) -> None:
        super().__init__()
        self.source_file = source_file
        self.cuts: list[PendingCut] = []
        self.cut_of: dict[int, int] = {}  # id(tensor) -> index in cuts
        self.used_cuts: dict[int, list[int]] = {}  # id(grad_fn) -> cut indices
        self.data_writes: dict[int, int] = {}  # storage pointer -> cut index ("data-write")
        self._alive: list[Any] = []  # keeps watched tensors and nodes alive, so ids stay unique

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        inputs = list(tensors((args, kwargs)))
        if not inputs:
            return result
        name = getattr(func, "__name__", "")
        if (name in IN_PLACE or (name.endswith("_") and not name.startswith("_"))) and args:
            self._note_data_write(args[0])
        if name in LEAVING_CALLS and any(t.requires_grad for t in inputs):
            # A Python number or a numpy array: the graph ends here, invisibly.
            self._new_cut(func, [t for t in inputs if t.requires_grad])
            return result
        outputs = [t for t in tensors(result) if t.is_floating_point() or t.is_complex()]
        tracked = [t for t in inputs if t.requires_grad]
        cut_inputs = sorted({self.cut_of[id(t)] for t in inputs if id(t) in self.cut_of})
        for out in outputs:
            if out.requires_grad:
                if cut_inputs and out.grad_fn is not None:
                    self._alive.append(out.grad_fn)
                    self.used_cuts.setdefault(id(out.grad_fn), []).extend(cut_inputs)
                continue
            if tracked:
                self.cut_of[id(out)] = self._new_cut(func, tracked)
                self._alive.append(out)
            elif cut_inputs:
                self.cut_of[id(out)] = cut_inputs[0]
                self._alive.append(out)
        return result

    def _note_data_write(self, target: Any) -> None:
        """``y.data -= 1``: an in-place change through ``.data`` of a tensor in the graph."""
        cut = self.cut_of.get(id(target)) if isinstance(target, Tensor) else None
        if cut is None or self.cuts[cut].kind != "data":
            return
        place = storage(target)
        if place in self.data_writes:
            return
        location, code = self._where()
        self.cuts.append(PendingCut("data-write", location, code, list(self.cuts[cut].leaves)))
        self.data_writes[place] = len(self.cuts) - 1

    def _new_cut(self, func: Any, tracked: list[Tensor]) -> int:
        name = getattr(func, "__name__", "")
        owner = getattr(func, "__self__", None)
        if name in ("detach", "detach_"):
            kind = "detach"
        elif name in LEAVING_CALLS:
            kind = name
        elif name == "__get__" and getattr(owner, "__name__", "") == "data":
            kind = "data"
        elif not torch.is_grad_enabled():
            kind = "no_grad"
        else:
            kind = "non-differentiable"
        location, code = self._where()
        leaves = [leaf for t in tracked for leaf in leaves_behind(t)]
        self.cuts.append(PendingCut(kind, location, code, leaves))
        return len(self.cuts) - 1

    def _where(self) -> tuple[str, str]:
        """The line of the user's file that made the cut (the innermost frame in that file)."""
        if self.source_file is None:
            return "", ""
        frame: Any = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.source_file:
                line = linecache.getline(self.source_file, frame.f_lineno).strip()
                short = self.source_file.rsplit("/", 1)[-1]
                return f"{short}:{frame.f_lineno}", line
            frame = frame.f_back
        return "", ""


def storage(tensor: Tensor) -> int:
    """Where a tensor's numbers live: ``y`` and ``y.data`` share it."""
    try:
        return int(tensor.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):  # no storage (meta, sparse)
        return -id(tensor)


def leaves_behind(tensor: Tensor) -> list[Tensor]:
    """The leaf tensors that requiring-grad ``tensor`` was computed from."""
    if tensor.grad_fn is None:
        return [tensor]
    found: list[Tensor] = []
    seen: set[int] = set()
    stack: list[Any] = [tensor.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if isinstance(variable, Tensor):
            found.append(variable)
        stack.extend(child for child, _ in fn.next_functions)
    return found


def tensors(obj: Any) -> Iterable[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from tensors(item)
