"""Number formatting shared by the renderers (fixed significant digits, so output is stable)."""

from __future__ import annotations

import math

from gradx.text import fmt_array as fmt_array  # the renderers' names for them
from gradx.text import fmt_value as fmt_value

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
