"""Plain-text helpers shared by the core and the renderers (stdlib only): numbers for tables and
for prose, superscripts, ordinals, and the first line of an exception."""

from __future__ import annotations

import math

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
    "fmt_value",
    "ordinal",
    "short_number",
    "superscript",
]
