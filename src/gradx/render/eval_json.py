"""``gradx eval --json``: one JSON document, streamed point by point.

JSON is a machine format: its notes are English whatever ``--lang`` says (``str(phrase)``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from gradx.commands.eval.model import EvalHeader, EvalSummary, PointResult, key_text
from gradx.render.numbers import json_number

SCHEMA_VERSION = 1


def header_fields(header: EvalHeader) -> dict[str, Any]:
    """The document's fields that come before the points."""
    return {
        "schema": SCHEMA_VERSION,
        "expression": header.expression,
        "variables": list(header.variables),
        "wrt": list(header.wrt),
        "order": header.order,
        "dtype": header.dtype,
        "tolerance": {"rtol": header.rtol, "atol": header.atol},
        "function": header.expression_text,
        "derivative": {
            key_text(k): d for k, d in zip(header.keys, header.derivatives, strict=True)
        },
    }


def point_fields(row: PointResult) -> dict[str, Any]:
    """One entry of ``points``."""
    return {
        "index": row.index,
        "at": dict(row.at),
        "value": json_number(row.value),
        "autograd": {key_text(d.key): json_number(d.autograd) for d in row.derivatives},
        "symbolic": {key_text(d.key): json_number(d.symbolic) for d in row.derivatives},
        "numeric": {key_text(d.key): json_number(d.numeric) for d in row.derivatives},
        "numeric_error": {key_text(d.key): json_number(d.numeric_error) for d in row.derivatives},
        "error": json_number(row.error),
        "status": row.status.value,
        "statuses": {key_text(d.key): d.status.value for d in row.derivatives},
        "note": "" if row.note is None else str(row.note),  # English: a machine format
    }


def summary_fields(summary: EvalSummary) -> dict[str, Any]:
    """The ``summary`` object."""
    return {
        "points": summary.points,
        "ok": summary.ok,
        "nondifferentiable": summary.nondifferentiable,
        "domain": summary.domain,
        "mismatch": summary.mismatch,
        "inconclusive": summary.inconclusive,
        "worst_error": json_number(summary.worst_error),
        "worst_at": dict(summary.worst_at) if summary.worst_at else None,
        "worst_derivative": key_text(summary.worst_key) if summary.worst_key else None,
    }


class JsonStream:
    """Writes the document incrementally: header fields, then each point, then the summary."""

    def __init__(self, out: IO[str], header: EvalHeader) -> None:
        self.out = out
        head = json.dumps(header_fields(header), ensure_ascii=False)
        self.out.write(head[:-1] + ', "points": [')
        self.count = 0

    def write_rows(self, rows: Sequence[PointResult]) -> None:
        """Append points."""
        for row in rows:
            self.out.write(("\n  " if self.count == 0 else ",\n  ") + json.dumps(point_fields(row)))
            self.count += 1

    def finish(self, summary: EvalSummary) -> None:
        """Close the points list and write the summary."""
        self.out.write("\n], " if self.count else "], ")
        self.out.write('"summary": ' + json.dumps(summary_fields(summary)) + "}\n")
        self.out.flush()
