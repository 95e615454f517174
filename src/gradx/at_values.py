"""The one grammar of ``--at`` values, shared by ``eval``, ``check`` and ``graph`` (no torch).

One ``--at`` text is a list of items separated by top-level commas::

    x=1.5                a number (or a constant expression: x=pi/4, x=-1e-3, x=2*pi)
    x=0,1,2,3,y=4        a name's comma list runs until the next NAME=: x is a 4-vector
    a=[[1,2],[3,4]]      a bracketed list, nested as deep as the tensor (rectangular)
    1.5   0,1,2   [1,2]  a bare value (no name): for every variable or argument

Each command reads the result its own way: ``check`` and ``graph`` make a tensor of each value's
shape; ``eval``'s variables are numbers, so there a vector means several points. The result is
plain frozen data; every mistake is a ``GradxError`` that names the offending piece.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from gradx.errors import GradxError

ALL = "*"  # the name of a bare value: it applies to every variable or argument
MAX_TEXT = 1_000_000  # characters of one --at
MAX_VALUES = 1_000_000  # numbers in one --at
MAX_NESTING = 8  # brackets inside brackets

Nested: TypeAlias = "float | tuple[Nested, ...]"

_NAMED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=(?!=)")
_ASSIGN = re.compile(r"(?<![<>!=])=(?!=)")  # an '=' that is not part of ==, <=, >=, !=
_STOP = re.compile(r"[,\[\]()]")


@dataclass(frozen=True)
class AtValue:
    """One name's value: its numbers in row-major order and the shape they have."""

    name: str  # ALL for a bare value
    flat: tuple[float, ...]
    shape: tuple[int, ...]  # () a number, (n,) a vector, (m, n) a matrix, ...
    text: str  # the --at it came from, for messages

    @property
    def is_number(self) -> bool:
        """Whether this is one number (shape ``()``)."""
        return self.shape == ()

    @property
    def nested(self) -> Nested:
        """The value as a float or nested tuples of floats (what ``torch.tensor`` takes)."""
        return _nest(self.flat, self.shape)

    def shape_text(self) -> str:
        """``2×2``, ``3`` or ``a number``: the shape in words for messages."""
        return "×".join(map(str, self.shape)) if self.shape else "a number"


def parse_at(
    text: str,
    names: Sequence[str] | None = None,
    *,
    option: str = "--at",
    noun: str = "variable",
) -> tuple[AtValue, ...]:
    """The values of one ``--at`` text, in the order typed (GradxError, exit 2, otherwise).

    ``names``, when the caller knows them, are the only names allowed (``noun`` says what they
    are in the message). A bare value is returned under ``ALL``.
    """
    reader = _Reader(text, option)
    if len(text) > MAX_TEXT:
        raise reader.fail(f"longer than {MAX_TEXT:,} characters")
    if not text.strip():
        raise GradxError(f"{option} is empty: write {option} x=1.5")
    groups: list[tuple[str, list[tuple[Nested, tuple[int, ...], str]]]] = []
    while True:
        match = _NAMED.match(text, reader.pos)
        if match:
            name = match.group(1)
            reader.pos = match.end()
            if any(seen == name for seen, _ in groups):
                raise reader.fail(f"{name} is given twice")
            if names is not None and name not in names:
                known = ", ".join(names) or "none"
                raise reader.fail(f"{name!r} is not a {noun} here (the {noun}s: {known})")
            groups.append((name, []))
            reader.skip_space()
            if reader.at_end() or reader.peek() == ",":
                raise reader.fail(f"no value after '{name}='")
        elif not groups:
            groups.append((ALL, []))
        groups[-1][1].append(reader.item())
        reader.skip_space()
        if reader.at_end():
            break
        reader.pos += 1  # the comma (item() stops only at a top-level comma or the end)
        reader.skip_space()
        if reader.at_end():
            raise reader.fail("a value is missing after the last ','")
    return tuple(_value(name, pieces, reader) for name, pieces in groups)


def merge_at(
    texts: Sequence[str],
    names: Sequence[str] | None = None,
    *,
    option: str = "--at",
    noun: str = "variable",
) -> tuple[AtValue, ...]:
    """Several ``--at`` that describe one call (``check``, ``graph``): a name given twice, or
    two bare values, is an error."""
    found: dict[str, AtValue] = {}
    for text in texts:
        for value in parse_at(text, names, option=option, noun=noun):
            if value.name in found:
                what = "a bare value" if value.name == ALL else value.name
                raise GradxError(
                    f"{option} gives {what} twice ({found[value.name].text!r}, {text!r})"
                )
            found[value.name] = value
    return tuple(found.values())


def parse_one_value(text: str, option: str) -> AtValue:
    """A lone value without a name (``--gradient 1,0,0`` or ``[[1,0],[0,1]]``)."""
    values = parse_at(text, option=option)
    if len(values) != 1 or values[0].name != ALL:
        raise GradxError(f"{option} {_quote(text)}: give values only, without a name")
    return values[0]


class _Reader:
    """A cursor over one --at text; recursion depth is bounded by ``MAX_NESTING``."""

    def __init__(self, text: str, option: str) -> None:
        self.text = text
        self.option = option
        self.pos = 0
        self.count = 0

    def fail(self, what: str) -> GradxError:
        return GradxError(f"{self.option} {_quote(self.text)}: {what}")

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos]

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def item(self) -> tuple[Nested, tuple[int, ...], str]:
        """A bracketed list or a number, up to the next top-level comma or the end."""
        self.skip_space()
        start = self.pos
        if not self.at_end() and self.peek() == "[":
            value, shape = self.bracketed(0)
            self.skip_space()
            if not self.at_end() and self.peek() != ",":
                raise self.fail(f"{self.text[self.pos]!r} after the list {self.piece(start)!r}")
            return value, shape, self.text[start : self.pos].strip()
        piece = self.constant(stop=",")
        if _ASSIGN.search(piece):
            head = _ASSIGN.split(piece, 1)[0].strip()
            if not head:
                raise self.fail(f"'=' without a name before it in {piece.strip()!r}")
            raise self.fail(f"{head!r} is not a name: write NAME=VALUE, as in x=1.5")
        return self.number(piece), (), piece.strip()

    def bracketed(self, depth: int) -> tuple[Nested, tuple[int, ...]]:
        """``[ … ]`` at the cursor: its nested values and their (rectangular) shape."""
        start = self.pos
        if depth >= MAX_NESTING:
            raise self.fail(f"lists nested deeper than {MAX_NESTING}")
        self.pos += 1
        items: list[tuple[Nested, tuple[int, ...]]] = []
        while True:
            self.skip_space()
            if self.at_end():
                raise self.fail(f"the '[' at character {start + 1} is not closed by ']'")
            char = self.peek()
            if char == "[":
                items.append(self.bracketed(depth + 1))
            elif char in ",]":
                where = "an empty list has no values" if char == "]" and not items else None
                raise self.fail(where or f"a value is missing in the list at character {start + 1}")
            else:
                items.append((self.number(self.constant(stop=",]")), ()))
            self.skip_space()
            if self.at_end():
                raise self.fail(f"the '[' at character {start + 1} is not closed by ']'")
            char = self.peek()
            self.pos += 1
            if char == "]":
                break
            if char != ",":
                raise self.fail(f"expected ',' or ']' at character {self.pos}, found {char!r}")
        shapes = {shape for _, shape in items}
        if len(shapes) != 1:
            raise self.fail(
                f"ragged list {self.piece(start)!r}: its rows differ in length or depth "
                "(a matrix needs rows of equal length)"
            )
        return tuple(value for value, _ in items), (len(items), *shapes.pop())

    def constant(self, stop: str) -> str:
        """The text of one number or constant expression, up to a top-level ``stop`` character
        (commas inside parentheses belong to it: ``atan2(1,2)``)."""
        start = self.pos
        depth = 0
        while True:
            found = _STOP.search(self.text, self.pos)
            if found is None:
                self.pos = len(self.text)
                break
            char = found.group()
            self.pos = found.start()
            if char == "[":
                raise self.fail(f"a '[' inside the value {self.piece(start)!r}")
            if depth <= 0 and char in stop:
                break
            if char == "]":
                raise self.fail(f"a ']' without its '[' after {self.text[start : self.pos]!r}")
            depth += 1 if char == "(" else -1 if char == ")" else 0
            self.pos += 1
        return self.text[start : self.pos]

    def number(self, piece: str) -> float:
        """The finite value of a number or constant expression (``pi/4``)."""
        stripped = piece.strip()
        if not stripped:
            raise self.fail("a value is missing (two commas in a row?)")
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.fail(f"more than {MAX_VALUES:,} values")
        try:
            value = float(stripped)
        except ValueError:
            return self.constant_expression(stripped)
        if not math.isfinite(value):
            raise self.fail(f"{stripped!r} is not a finite number")
        return value

    def constant_expression(self, stripped: str) -> float:
        from gradx.expression.parser import parse_constant

        try:
            return parse_constant(stripped, "the value")
        except GradxError as exc:
            raise GradxError(
                f"{self.option} {_quote(self.text)}: {exc.message}", detail=exc.detail
            ) from None
        except (RecursionError, MemoryError):
            raise self.fail(f"the value {_short(stripped)!r} is too complex") from None

    def piece(self, start: int) -> str:
        return _short(self.text[start : self.pos].strip())


def _value(
    name: str, pieces: list[tuple[Nested, tuple[int, ...], str]], reader: _Reader
) -> AtValue:
    """One name's pieces as a value: a lone piece keeps its shape; a comma list is a vector."""
    if len(pieces) == 1:
        nested, shape, _ = pieces[0]
        return AtValue(name, _flat(nested), shape, reader.text)
    listed = next((text for _, shape, text in pieces if shape), None)
    if listed is not None:
        who = "the bare value" if name == ALL else name
        raise reader.fail(
            f"{who}: give one list in brackets, or numbers separated by commas, "
            f"not both ({_short(listed)!r})"
        )
    numbers = tuple(value for value, _, _ in pieces if isinstance(value, float))
    return AtValue(name, numbers, (len(numbers),), reader.text)


def _flat(value: Nested) -> tuple[float, ...]:
    if not isinstance(value, tuple):
        return (value,)
    out: list[float] = []
    stack: list[Nested] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return tuple(out)


def _nest(flat: Sequence[float], shape: Sequence[int]) -> Nested:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return tuple(flat)
    step = len(flat) // shape[0]
    return tuple(_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0]))


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote(text: str) -> str:
    return repr(_short(text, 60))
