"""Parse what the user typed: ``FILE::NAME``, ``--shape`` and ``--at`` (stdlib only; ``--at``
in the one grammar of ``gradx.at_values``).

These run in the parent process before any worker starts, so bad options exit 2 at once.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from gradx.at_values import ALL, AtValue, merge_at
from gradx.errors import GradxError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
MAX_ELEMENTS = 50_000_000
MAX_SOURCE_BYTES = 16 * 2**20  # a Python file larger than this is not a hand-written target


@dataclass(frozen=True)
class InputSpec:
    """Shapes and values asked for on the command line, by parameter name (``ALL`` for all)."""

    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    values: tuple[tuple[str, AtValue], ...] = ()

    def shape_for(self, name: str) -> tuple[int, ...] | None:
        """The shape asked for this parameter (a named --shape wins over a bare one)."""
        found = dict(self.shapes)
        return found.get(name, found.get(ALL))

    def values_for(self, name: str) -> AtValue | None:
        """The value asked for this parameter (a named --at wins over a bare one)."""
        found = dict(self.values)
        return found.get(name, found.get(ALL))

    def names(self) -> set[str]:
        """Parameter names mentioned by --shape or --at (without ``ALL``)."""
        return {n for n, _ in (*self.shapes, *self.values) if n != ALL}


def split_target(text: str) -> tuple[Path, str | None]:
    """``script.py::NAME`` → (path, NAME); ``script.py`` → (path, None)."""
    if "::" in text:
        file, _, name = text.rpartition("::")
        name = name.strip()
        if not name:
            raise GradxError(f"nothing after '::' in {text!r}: write FILE::NAME, e.g. model.py::f")
        if not _NAME.match(name):
            raise GradxError(f"{name!r} is not a Python name (in {text!r})")
        return Path(file), name
    return Path(text), None


def check_file(path: Path) -> None:
    """Refuse (exit 2) a path that is missing, a folder, not a regular file, huge or unreadable.

    A FIFO would block the read forever and a device such as /dev/zero never ends, so only
    regular files (symlinks are followed) of at most ``MAX_SOURCE_BYTES`` are read.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise GradxError(f"no such file: {path}") from None
    except OSError as exc:
        raise GradxError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise GradxError(f"{path} is a folder: give a Python file such as {path}/model.py")
    if not stat.S_ISREG(info.st_mode):
        raise GradxError(f"{path} is not a regular file (a FIFO or a device): give a Python file")
    if info.st_size > MAX_SOURCE_BYTES:
        raise GradxError(
            f"{path} is {info.st_size / 2**20:.0f} MiB: too large for a Python source file "
            f"(the limit is {MAX_SOURCE_BYTES // 2**20} MiB)"
        )
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise GradxError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_shapes(items: tuple[str, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """``7``, ``3,4``, ``x=3,4``, ``x=()`` (scalar) → ((name, shape), ...)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for item in items:
        name, _, rest = item.rpartition("=") if "=" in item else ("", "", item)
        name = name.strip() or ALL
        if name != ALL and not _NAME.match(name):
            raise GradxError(f"--shape {item!r}: {name!r} is not a parameter name")
        rest = rest.strip().strip("()[]").replace("x", ",").replace(" ", "")
        try:
            shape = tuple(int(p) for p in rest.split(",") if p != "")
        except ValueError:
            raise GradxError(
                f"--shape {item!r}: expected sizes such as 7, 3,4 or x=3,4 (or x=() for a scalar)"
            ) from None
        if any(s < 0 for s in shape):
            raise GradxError(f"--shape {item!r}: sizes must not be negative")
        if math.prod(shape) > MAX_ELEMENTS:
            raise GradxError(f"--shape {item!r}: more than {MAX_ELEMENTS:,} elements")
        shapes[name] = shape
    return tuple(shapes.items())


def parse_values(items: tuple[str, ...]) -> tuple[tuple[str, AtValue], ...]:
    """``x=1.5``, ``x=1,2,3``, ``a=[[1,2],[3,4]]``, ``x=1,y=2`` or a bare ``1.5`` → ((name, value),
    ...) in the one grammar of ``gradx.at_values``; a name given twice is an error."""
    return tuple((value.name, value) for value in merge_at(items, noun="parameter"))


def input_spec(shapes: tuple[str, ...], values: tuple[str, ...]) -> InputSpec:
    """Parse the --shape and --at options together and check that they agree."""
    spec = InputSpec(parse_shapes(shapes), parse_values(values))
    for name, value in spec.values:
        shape = spec.shape_for(name) if name != ALL else dict(spec.shapes).get(ALL)
        if shape is not None and not fits(value, shape):
            who = "the bare --at" if name == ALL else f"--at {name}"
            raise GradxError(
                f"{who} is {value.shape_text()} ({len(value.flat)} values) but --shape says "
                f"{'×'.join(map(str, shape)) or 'a scalar ()'}: give one of them, or make them agree"
            )
    return spec


def fits(value: AtValue, shape: tuple[int, ...]) -> bool:
    """Whether an --at value can fill a --shape: a number fills any shape (every element), a
    flat list of as many values is reshaped, a nested list must have that very shape."""
    if value.is_number:
        return True
    if len(value.shape) == 1:
        return len(value.flat) == math.prod(shape)
    return value.shape == shape
