"""Number formatting shared by the renderers (fixed significant digits, so output is stable)."""

from __future__ import annotations

import math

TABLE_DIGITS = 6  # enough to see agreement; the error column and --json carry the rest


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
