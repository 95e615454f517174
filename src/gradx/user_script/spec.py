"""Parse what the user typed: ``FILE::NAME``, ``--shape`` and ``--at`` (stdlib only).

These run in the parent process before any worker starts, so bad options exit 2 at once.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from gradx.errors import GradxError

ALL = "*"  # the name used for a --shape/--at without a parameter name: every tensor input
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
MAX_ELEMENTS = 50_000_000
MAX_SOURCE_BYTES = 16 * 2**20  # a Python file larger than this is not a hand-written target


@dataclass(frozen=True)
class InputSpec:
    """Shapes and values asked for on the command line, by parameter name (``ALL`` for all)."""

    shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    values: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def shape_for(self, name: str) -> tuple[int, ...] | None:
        """The shape asked for this parameter (a named --shape wins over a bare one)."""
        found = dict(self.shapes)
        return found.get(name, found.get(ALL))

    def values_for(self, name: str) -> tuple[float, ...] | None:
        """The values asked for this parameter (a named --at wins over a bare one)."""
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


def parse_values(items: tuple[str, ...]) -> tuple[tuple[str, tuple[float, ...]], ...]:
    """``x=1.5``, ``x=1,2,3``, ``x=1,y=2`` or a bare ``1.5`` → ((name, values), ...)."""
    values: dict[str, list[float]] = {}
    for item in items:
        current: str | None = None
        for token in item.split(","):
            token = token.strip()
            if "=" in token:
                name, _, token = token.partition("=")
                current = name.strip()
                if not _NAME.match(current):
                    raise GradxError(f"--at {item!r}: {current!r} is not a parameter name")
                values[current] = []
            elif current is None:
                current = ALL
                values[current] = []
            if token == "":
                raise GradxError(f"--at {item!r}: a value is missing")
            try:
                number = float(token)
            except ValueError:
                raise GradxError(
                    f"--at {item!r}: {token!r} is not a number (write x=1.5 or x=1,2,3)"
                ) from None
            if not math.isfinite(number):
                raise GradxError(f"--at {item!r}: values must be finite numbers")
            values[current].append(number)
    return tuple((k, tuple(v)) for k, v in values.items())


def input_spec(shapes: tuple[str, ...], values: tuple[str, ...]) -> InputSpec:
    """Parse the --shape and --at options together and check that they agree."""
    spec = InputSpec(parse_shapes(shapes), parse_values(values))
    for name, vals in spec.values:
        shape = spec.shape_for(name) if name != ALL else dict(spec.shapes).get(ALL)
        if shape is not None and len(vals) > 1 and math.prod(shape) != len(vals):
            raise GradxError(
                f"--at {name}: {len(vals)} values do not fill --shape {','.join(map(str, shape))}"
            )
    return spec
