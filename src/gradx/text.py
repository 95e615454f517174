"""Plain-text helpers shared by the core and the renderers (stdlib only): number formatting."""

from __future__ import annotations

import math


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
