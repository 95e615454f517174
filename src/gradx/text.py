"""Plain-text helpers shared by the core and the renderers (stdlib only): numbers for tables and
for prose, tensors' shapes and values, superscripts, ordinals, and the first line of an
exception."""

from __future__ import annotations

import math
from collections.abc import Sequence

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_value(value: float | None, digits: int = 10) -> str:
    """A number with ``digits`` significant digits; nan/inf spelled out; None as n/a."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return "0" if text in ("-0", "0") else text


def fmt_shape(shape: Sequence[int]) -> str:
    """A tensor's shape as Python writes the tuple: ``()``, ``(3,)``, ``(2, 3)``."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_array(numbers: Sequence[str], shape: Sequence[int]) -> str:
    """Formatted numbers (row-major) in their shape, laid out as torch prints a tensor.

    A number stays itself and a vector stays on one line (``[0, 4, 8, 12]``); a matrix is one
    row per line with its columns aligned (``[[ 7, 11],`` over `` [ 9, 13]]``), and the blocks of
    higher dimensions are separated by blank lines.
    """
    if not shape:
        return numbers[0]
    if len(shape) == 1:
        return "[" + ", ".join(numbers) + "]"
    width = max((len(n) for n in numbers), default=0)
    return _block([n.rjust(width) for n in numbers], tuple(shape), 0)


def _block(numbers: Sequence[str], shape: tuple[int, ...], column: int) -> str:
    """One bracketed block that starts at ``column``; its inner blocks start one further."""
    if len(shape) == 1:
        return "[" + ", ".join(numbers) + "]"
    if shape[0] == 0:
        return "[]"
    step = len(numbers) // shape[0]
    inner = [
        _block(numbers[i * step : (i + 1) * step], shape[1:], column + 1) for i in range(shape[0])
    ]
    return "[" + ("," + "\n" * (len(shape) - 1) + " " * (column + 1)).join(inner) + "]"


def fmt_nested(numbers: Sequence[str], shape: Sequence[int]) -> str:
    """Formatted numbers (row-major) in their shape on one line: ``[[1, 2], [3, 4]]``."""
    if len(shape) <= 1:
        return "[" + ", ".join(numbers) + "]"
    step = len(numbers) // shape[0] if shape[0] else 0
    inner = (fmt_nested(numbers[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0]))
    return "[" + ", ".join(inner) + "]"


def fmt_tensor_values(
    values: Sequence[float] | None,
    norm: float | None,
    shape: Sequence[int],
    *,
    rows: bool = False,
) -> str:
    """A tensor's values (6 significant digits) in its shape: ``[[1, 2], [3, 4]]`` on one line,
    or with ``rows`` as torch prints them (``fmt_array``); its norm ``‖·‖ = 5`` when only that
    was kept; ``…`` when neither was."""
    if values is not None:
        numbers = [fmt_value(v, 6) for v in values]
        if rows or not shape:
            return fmt_array(numbers, shape)
        return fmt_nested(numbers, shape)
    if norm is not None:
        return f"‖·‖ = {fmt_value(norm, 6)}"
    return "…"


def short_number(value: float | None) -> str:
    """A number for prose: 6 significant digits, ``nan``/``inf``/``-inf`` spelled out, None as
    ``n/a`` (``1e+308``, ``0.891309``)."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "0" if value == 0 else f"{value:.6g}"  # no "-0"


def superscript(n: int | str) -> str:
    """``2`` → ``²``, ``-1`` → ``⁻¹`` (digits and minus signs; other characters are kept)."""
    return str(n).translate(_SUPERSCRIPT)


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``12th``, ``13th``, ``21st``, ``22nd``…"""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def first_line(message: object, limit: int | None = None) -> str:
    """The first non-blank line of ``str(message)`` (an exception's message, usually), stripped;
    "" when there is none. Longer than ``limit`` characters: cut, ending in ``…``."""
    text = str(message).strip()
    line = text.splitlines()[0].strip() if text else ""
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def exception_line(exc: BaseException, limit: int | None = None) -> str:
    """``TypeName: first line of the message``, or ``TypeName`` when the message is empty."""
    line = first_line(exc, limit)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


__all__ = [
    "exception_line",
    "first_line",
    "fmt_array",
    "fmt_nested",
    "fmt_shape",
    "fmt_tensor_values",
    "fmt_value",
    "ordinal",
    "short_number",
    "superscript",
]
