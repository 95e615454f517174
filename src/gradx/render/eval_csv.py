"""``gradx eval --csv FILE``: the table as CSV, one row per point, written atomically.

CSV is a machine format: its column names, statuses and notes are English whatever ``--lang``
says."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO

from gradx.commands.eval.model import EvalHeader, PointResult, key_text


def _note(row: PointResult) -> str:
    return "" if row.note is None else str(row.note)


def _columns(header: EvalHeader) -> list[str]:
    names = [*header.variables, "value"]
    single = len(header.keys) == 1
    for key in header.keys:
        suffix = "" if single else f"[{key_text(key)}]"
        names += [f"{c}{suffix}" for c in ("autograd", "symbolic", "numeric", "numeric_error")]
        if not single:
            names.append(f"status{suffix}")
    return [*names, "error", "status", "note"]


class CsvStream:
    """Writes the header line, then rows as they come."""

    def __init__(self, out: IO[str], header: EvalHeader) -> None:
        self.writer = csv.writer(out)
        self.single = len(header.keys) == 1
        self.writer.writerow(_columns(header))

    def write_rows(self, rows: Sequence[PointResult]) -> None:
        """Append rows (floats in full precision; NaN and inf as Python spells them)."""
        for row in rows:
            cells: list[object] = [value for _, value in row.at]
            cells.append(row.value)
            for d in row.derivatives:
                cells += [
                    d.autograd,
                    "" if d.symbolic is None else d.symbolic,
                    "" if d.numeric is None else d.numeric,
                    "" if d.numeric_error is None else d.numeric_error,
                ]
                if not self.single:
                    cells.append(d.status.value)
            cells += ["" if row.error is None else row.error, row.status.value, _note(row)]
            self.writer.writerow(cells)
