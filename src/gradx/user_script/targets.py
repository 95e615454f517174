"""Find what ``gradx check FILE`` checks: load the file as a module and list its targets.

Public API (also used by ``gradx graph``):

* ``load_module(path)`` imports the file as a module named ``__gradx_user__<stem>`` (so an
  ``if __name__ == "__main__":`` block does not run), with the file's folder first on
  ``sys.path`` so that its sibling imports work. Syntax errors, import errors and ``exit()``
  while importing raise ``GradxError`` (exit code 2) with the user's file and line.
* ``discover(path)`` → ``list[Target]``: loads the file and returns its targets in definition
  order. ``find_targets(module)`` does the same for a loaded module and also says what was
  skipped and why; ``select(found, name)`` picks one target by name (``FILE::NAME``).

A target is a top-level function defined in the file (not imported, name not starting with
``_``, not an ``example_*`` input function), a ``torch.autograd.Function`` subclass (called
through ``.apply``), or an ``nn.Module`` subclass whose constructor needs no arguments.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from gradx.errors import GradxError
from gradx.text import first_line

FUNCTION, AUTOGRAD_FUNCTION, MODULE = "function", "autograd.Function", "nn.Module"
EXAMPLE_PREFIX = "example_"
# Annotations that say "not a tensor": such a parameter needs a default or an example.
_NOT_TENSOR_ANNOTATIONS = {"int", "bool", "str", "bytes", "list", "dict", "tuple", "Path"}
_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    """One parameter of a target's call (after ``ctx``/``self``)."""

    name: str
    default: Any = _EMPTY  # inspect.Parameter.empty when there is none
    annotation: str = ""
    keyword_only: bool = False

    @property
    def has_default(self) -> bool:
        """True when the parameter has a default value."""
        return self.default is not _EMPTY

    @property
    def is_tensor(self) -> bool:
        """True when gradx makes a tensor for it: no default (or a tensor default), not int/str/..."""
        if self.has_default:
            return _is_tensor(self.default)
        return self.annotation.split("[")[0].split(".")[-1] not in _NOT_TENSOR_ANNOTATIONS


@dataclass(frozen=True)
class Target:
    """Something to check: its name, kind, the object itself and the parameters of its call."""

    name: str
    kind: str  # FUNCTION, AUTOGRAD_FUNCTION or MODULE
    obj: Any
    line: int | None
    params: tuple[Param, ...]
    example: Callable[..., Any] | None = None  # the file's example_NAME, if any
    file: str | None = None

    @property
    def tensor_params(self) -> tuple[str, ...]:
        """Names of the parameters that get a tensor input."""
        return tuple(p.name for p in self.params if p.is_tensor)


@dataclass(frozen=True)
class Found:
    """The targets of a file and the top-level names that are not targets, with the reason."""

    module: ModuleType
    targets: tuple[Target, ...]
    skipped: tuple[tuple[str, str], ...]


def module_name_for(path: Path) -> str:
    """The name the user's file is imported under (never ``__main__``)."""
    stem = re.sub(r"\W", "_", path.stem) or "script"
    return f"__gradx_user__{stem}"


def load_module(path: Path) -> ModuleType:
    """Import ``path`` as a module; GradxError (exit 2) when it cannot be imported."""
    path = Path(path).resolve()
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GradxError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module  # dataclasses and pickling inside the file look it up
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise syntax_error(path, exc) from None
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise GradxError(
            f"{path.name} called exit({exc.code!r}) while being imported",
            detail=(
                '  move that code under  if __name__ == "__main__":  (gradx imports the file)',
            ),
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure while importing the user's file
        sys.modules.pop(name, None)
        where = user_frame(exc, str(path))
        at = f" ({where[0]}:{where[1]})" if where else ""
        detail = (f"  {where[2]}",) if where and where[2] else ()
        raise GradxError(
            f"importing {path.name} failed: {one_line(exc)}{at}", detail=detail
        ) from None
    return module


def syntax_error(path: Path, exc: SyntaxError) -> GradxError:
    """The GradxError for a syntax error in the user's file, with the line and a caret."""
    line = exc.lineno or 0
    text = (exc.text or "").rstrip("\n")
    detail: tuple[str, ...] = ()
    if text:
        stripped = text.lstrip()
        caret = max(0, (exc.offset or 1) - 1 - (len(text) - len(stripped)))
        detail = ("  " + stripped, "  " + " " * caret + "^")
    where = f"{Path(exc.filename).name if exc.filename else path.name}:{line}"
    return GradxError(f"syntax error in {where}: {exc.msg}", detail=detail)


def one_line(exc: BaseException) -> str:
    """``TypeName: first line of the message``."""
    first = first_line(exc)
    # torch appends advice ("Hint: enable anomaly detection ...") that gradx gives better.
    first = first.split(" Hint: ")[0]
    if len(first) > 240:
        first = first[:237] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def user_frame(exc: BaseException, file: str) -> tuple[str, int, str] | None:
    """(file name, line, source) of the deepest traceback frame in the user's file."""
    target = str(Path(file).resolve())
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            same = str(Path(frame.filename).resolve()) == target
        except (OSError, ValueError):
            same = False
        if same:
            found = (Path(frame.filename).name, frame.lineno or 0, (frame.line or "").strip())
    if found is None and isinstance(exc, SyntaxError) and exc.filename:
        return (Path(exc.filename).name, exc.lineno or 0, (exc.text or "").strip())
    return found


def discover(path: Path) -> list[Target]:
    """Load the file and return its targets in definition order."""
    return list(find_targets(load_module(Path(path))).targets)


def find_targets(module: ModuleType) -> Found:
    """The targets of a loaded module and what was skipped, both in definition order."""

    targets: list[Target] = []
    skipped: list[tuple[str, str]] = []
    namespace = vars(module)
    for name, obj in list(namespace.items()):
        if name.startswith("_") or name.startswith(EXAMPLE_PREFIX):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        target, reason = _make_target(name, obj, module)
        if target is not None:
            targets.append(target)
        elif reason:
            skipped.append((name, reason))
    return Found(module, tuple(targets), tuple(skipped))


def select(found: Found, name: str) -> Target:
    """The target called ``name`` (also a ``_private`` function); GradxError when there is none."""
    for target in found.targets:
        if target.name == name:
            return target
    obj = getattr(found.module, name, None)
    reason = dict(found.skipped).get(name)
    if (
        obj is not None
        and reason is None
        and getattr(obj, "__module__", None) == found.module.__name__
    ):
        made, reason = _make_target(name, obj, found.module)
        if made is not None:
            return made
    file = Path(getattr(found.module, "__file__", "") or "the file").name
    if reason:
        raise GradxError(f"{name} in {file} cannot be checked: {reason}")
    names = ", ".join(t.name for t in found.targets) or "none"
    raise GradxError(f"no target named {name!r} in {file}; targets found: {names}")


def _make_target(name: str, obj: Any, module: ModuleType) -> tuple[Target | None, str]:
    import torch  # here rather than at the top: importing gradx must not import torch

    example = getattr(module, EXAMPLE_PREFIX + name, None)
    example = example if callable(example) else None
    file = getattr(module, "__file__", None)
    if inspect.isclass(obj):
        if issubclass(obj, torch.autograd.Function):
            if obj is torch.autograd.Function or not _overrides(obj, "forward", torch):
                return None, ""
            params = _signature_params(obj.forward, drop_first=not _new_style(obj, torch))
            return _finish(Target(name, AUTOGRAD_FUNCTION, obj, _line(obj), params, example, file))
        if issubclass(obj, torch.nn.Module):
            try:
                signature = inspect.signature(obj)
            except (TypeError, ValueError):
                return None, "its constructor signature cannot be read"
            required = [
                p.name
                for p in signature.parameters.values()
                if p.default is _EMPTY and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
            if required:
                return None, f"its constructor needs arguments ({', '.join(required)})"
            params = _signature_params(obj.forward, drop_first=True)
            return _finish(Target(name, MODULE, obj, _line(obj), params, example, file))
        return None, ""
    if inspect.isfunction(obj):
        params = _signature_params(obj, drop_first=False)
        return _finish(Target(name, FUNCTION, obj, _line(obj), params, example, file))
    return None, ""


def _finish(target: Target) -> tuple[Target | None, str]:
    if target.example is not None:
        return target, ""
    for param in target.params:
        if not param.has_default and not param.is_tensor:
            return None, (
                f"parameter {param.name}: {param.annotation} has no default "
                f"(give its value in {EXAMPLE_PREFIX}{target.name}())"
            )
    if not target.tensor_params and target.kind != MODULE:
        return None, "it takes no tensor arguments"
    return target, ""


def _overrides(cls: type, method: str, torch: Any) -> bool:
    return getattr(cls, method, None) is not getattr(torch.autograd.Function, method, None)


def _new_style(cls: type, torch: Any) -> bool:
    # Functions with a setup_context staticmethod have forward(inputs...) without ctx.
    return getattr(cls, "setup_context", None) is not getattr(
        torch.autograd.Function, "setup_context", None
    )


def _signature_params(fn: Callable[..., Any], *, drop_first: bool) -> tuple[Param, ...]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    params = list(signature.parameters.values())
    if (
        drop_first
        and params
        and params[0].kind
        in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
    ):
        params = params[1:]
    result = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        annotation = "" if p.annotation is _EMPTY else _annotation_text(p.annotation)
        result.append(Param(p.name, p.default, annotation, p.kind is p.KEYWORD_ONLY))
    return tuple(result)


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return getattr(annotation, "__name__", None) or str(annotation)


def _line(obj: Any) -> int | None:
    code = getattr(obj, "__code__", None)
    if code is not None:
        return code.co_firstlineno
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def target_from_object(obj: Any, name: str | None = None) -> Target:
    """A Target for a Python object (function, autograd.Function or nn.Module subclass)."""

    label = name or getattr(obj, "__name__", None) or type(obj).__name__
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    target, reason = _make_target(label, obj, module or ModuleType("_"))
    if target is None:
        raise TypeError(f"cannot check {label}: {reason or 'not a function, Function or Module'}")
    return target
