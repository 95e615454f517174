"""Number formatting shared by the renderers (fixed significant digits, so output is stable)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gradx.text import fmt_value as fmt_value  # the renderers' one name for it

TABLE_DIGITS = 6  # enough to see agreement; the error column and --json carry the rest


def fmt_error(value: float | None) -> str:
    """An error in short scientific form; a dash when there is none."""
    if value is None or math.isnan(value):
        return "—"
    if value == 0:
        return "0"
    return f"{value:.1e}"


def json_number(value: float | None) -> float | None:
    """A float for JSON, with NaN and infinities as null."""
    if value is None or not math.isfinite(value):
        return None
    return value


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
