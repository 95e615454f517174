"""Points from the command line: ``--at x=1,y=2`` and ``--range x=A:B[:STEP]`` with ``--steps``.

``--at`` is read in the one grammar of ``gradx.at_values``; eval's variables are numbers, so a
vector there means several points (``--at x=0,1,2`` is three). Values and range ends are
constant expressions (``pi/4``, ``-2*pi``) parsed by the same safe parser as expressions. A grid is described, not materialised: ``PointGrid.chunk`` produces the
points of one slice, so ten million points never sit in memory at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gradx.at_values import ALL, AtValue, parse_at
from gradx.errors import GradxError
from gradx.expression.parser import parse_constant as constant

DEFAULT_STEPS = 13
MAX_POINTS = 100_000_000


@dataclass(frozen=True)
class Axis:
    """The values one variable takes: ``count`` evenly spaced values from start to stop."""

    name: str
    start: float
    stop: float
    count: int


@dataclass(frozen=True)
class PointGrid:
    """Points to evaluate: the explicit ``--at`` points, or the product of the range axes."""

    variables: tuple[str, ...]
    explicit: tuple[tuple[float, ...], ...] = ()
    axes: tuple[Axis, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()

    @property
    def size(self) -> int:
        """The number of points."""
        if self.explicit:
            return len(self.explicit)
        return math.prod(a.count for a in self.axes)

    def chunk(self, start: int, stop: int) -> dict[str, Any]:
        """The coordinates of points ``start`` to ``stop - 1``: one float64 tensor per variable."""
        import torch

        if self.explicit:
            rows = torch.tensor(self.explicit[start:stop], dtype=torch.float64)
            return {v: rows[:, i].contiguous() for i, v in enumerate(self.variables)}
        out: dict[str, Any] = {}
        counts = [a.count for a in self.axes]
        index = torch.arange(start, stop, dtype=torch.int64)
        for i, axis in enumerate(self.axes):
            inner = math.prod(counts[i + 1 :])
            k = ((index // inner) % axis.count).to(torch.float64)
            if axis.count == 1:
                out[axis.name] = torch.full((stop - start,), axis.start, dtype=torch.float64)
            else:
                # start + (stop - start) * k / (count - 1), exact at both ends
                t = k / (axis.count - 1)
                out[axis.name] = axis.start * (1 - t) + axis.stop * t
        for name, value in self.fixed:
            out[name] = torch.full((stop - start,), value, dtype=torch.float64)
        return {v: out[v] for v in self.variables}


def split_top_level(text: str, separator: str) -> list[str]:
    """Split at ``separator`` outside parentheses (so ``atan2(1,2)`` stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_assignments(spec: str, variables: Sequence[str]) -> dict[str, AtValue]:
    """One ``--at`` in the grammar of ``gradx.at_values``, by variable: ``x=1,y=2``, ``x=0,1,2``
    (a vector: several points), or a bare ``1.5`` or ``0,1,2`` when there is one variable."""
    result: dict[str, AtValue] = {}
    for value in parse_at(spec):
        name = value.name
        if name == ALL:
            if len(variables) != 1:
                raise GradxError(
                    f"--at {spec!r}: name the variables, as in --at "
                    + ",".join(f"{v}=1" for v in (variables or ("x",)))
                )
            name = variables[0]
        if name not in variables:
            raise _unknown_variable(name, variables, f"--at {spec!r}")
        if name in result:
            raise GradxError(f"--at {spec!r} gives {name} twice")
        if len(value.shape) > 1:
            raise GradxError(
                f"--at {spec!r}: {name} is {value.shape_text()}, but eval works on numbers, one "
                "per variable: a matrix is for gradx graph or gradx check"
            )
        result[name] = value
    return result


def points_of(spec: str, variables: Sequence[str]) -> tuple[tuple[float, ...], ...]:
    """The points of one ``--at``: one, or several when variables are given vectors. Vectors
    pair up element by element (``x=1,2,y=3,4`` is (1, 3) and (2, 4)); a number is the same
    at every point."""
    values = parse_assignments(spec, variables)
    missing = [v for v in variables if v not in values]
    if missing:
        raise GradxError(f"--at {spec!r} gives no value for {', '.join(missing)}")
    lengths = {name: len(value.flat) for name, value in values.items() if not value.is_number}
    if len(set(lengths.values())) > 1:
        said = " and ".join(f"{name} has {count}" for name, count in lengths.items())
        raise GradxError(
            f"--at {spec!r}: {said} values; vectors pair up element by element, so give "
            "them the same length (or one number, the same at every point)"
        )
    count = next(iter(lengths.values()), 1)
    columns = [
        values[v].flat if not values[v].is_number else values[v].flat * count for v in variables
    ]
    return tuple(zip(*columns, strict=True))


def parse_range(spec: str, variables: Sequence[str]) -> tuple[str, float, float, float | None]:
    """``A:B``, ``A:B:STEP`` or ``x=A:B[:STEP]`` to (variable, start, stop, step or None)."""
    text = spec.strip()
    name = None
    head, eq, rest = text.partition("=")
    if eq and ":" not in head:
        name, text = head.strip(), rest
    parts = split_top_level(text, ":")
    if len(parts) not in (2, 3):
        raise GradxError(f"--range {spec!r} is not A:B or A:B:STEP (for example -6.28:6.28)")
    if name is None:
        if len(variables) != 1:
            raise GradxError(
                f"--range {spec!r}: name the variable, as in --range {variables[0] if variables else 'x'}=-1:1"
            )
        name = variables[0]
    if name not in variables:
        raise _unknown_variable(name, variables, f"--range {spec!r}")
    start = constant(parts[0], f"the start of --range {spec!r}")
    stop = constant(parts[1], f"the end of --range {spec!r}")
    step = constant(parts[2], f"the step of --range {spec!r}") if len(parts) == 3 else None
    if start == stop:
        raise GradxError(f"--range {spec!r} is empty: its start and end are equal")
    if start > stop:
        raise GradxError(f"--range {spec!r} is reversed: the start must be below the end")
    if step is not None and step <= 0:
        raise GradxError(f"--range {spec!r}: the step must be positive")
    return name, start, stop, step


def build_grid(
    variables: Sequence[str],
    at: Sequence[str],
    ranges: Sequence[str],
    steps: int | None,
) -> PointGrid:
    """The points asked for on the command line, validated (GradxError with exit 2 otherwise)."""
    variables = tuple(variables)
    if not variables:
        raise GradxError("the expression has no variables: there is nothing to differentiate")
    if steps is not None and not ranges:
        raise GradxError("--steps needs a --range")
    if steps is not None and not 2 <= steps <= MAX_POINTS:
        raise GradxError(f"--steps must be between 2 and {MAX_POINTS:,}")
    if not at and not ranges:
        example = ",".join(f"{v}=1" for v in variables)
        raise GradxError(f"no points: add --at {example} or --range -5:5")
    if not ranges:
        points: list[tuple[float, ...]] = []
        for spec in at:
            points.extend(points_of(spec, variables))
        if len(points) > MAX_POINTS:
            raise GradxError(f"too many points (limit {MAX_POINTS:,})")
        return PointGrid(variables, explicit=tuple(points))
    axes: list[Axis] = []
    for spec in ranges:
        name, start, stop, step = parse_range(spec, variables)
        if any(a.name == name for a in axes):
            raise GradxError(f"two ranges for {name}")
        if step is None:
            count = steps or DEFAULT_STEPS
        else:
            exact = (stop - start) / step
            if exact + 1 > MAX_POINTS:
                raise GradxError(f"--range {spec!r} has too many points (limit {MAX_POINTS:,})")
            count = int(math.floor(exact * (1 + 1e-12))) + 1
            stop = start + (count - 1) * step
            if count < 2:
                raise GradxError(f"--range {spec!r}: the step is longer than the range")
        axes.append(Axis(name, start, stop, count))
    fixed: dict[str, float] = {}
    if len(at) > 1:
        raise GradxError("with --range, give at most one --at for the other variables")
    if at:
        given = parse_assignments(at[0], variables)
        vectors = [name for name, value in given.items() if not value.is_number]
        if vectors:
            raise GradxError(
                f"with --range, --at gives one number to each other variable: {vectors[0]} is "
                f"a vector in --at {at[0]!r}"
            )
        fixed = {name: value.flat[0] for name, value in given.items()}
        clash = [v for v in fixed if any(a.name == v for a in axes)]
        if clash:
            raise GradxError(f"{', '.join(clash)} has both a --range and an --at value")
    missing = [v for v in variables if v not in fixed and not any(a.name == v for a in axes)]
    if missing:
        raise GradxError(
            f"no values for {', '.join(missing)}: add --range {missing[0]}=A:B or --at {missing[0]}=1"
        )
    ordered = tuple(sorted(axes, key=lambda a: variables.index(a.name)))
    grid = PointGrid(variables, axes=ordered, fixed=tuple(fixed.items()))
    if grid.size > MAX_POINTS:
        raise GradxError(f"the grid has {grid.size:,} points; the limit is {MAX_POINTS:,}")
    return grid


def _unknown_variable(name: str, variables: Sequence[str], where: str) -> GradxError:
    known = ", ".join(variables) if variables else "none"
    return GradxError(
        f"{where}: {name!r} is not a variable of the expression (its variables: {known})"
    )
