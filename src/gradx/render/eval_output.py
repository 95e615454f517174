"""Writes ``gradx eval``'s outputs: streaming JSON/CSV writers for the rows, then the rich table.

Nothing here evaluates: the CLI runs ``PreparedEvaluation.run`` with ``EvalWriters.sink`` as its
row sink and hands the finished report back to ``EvalWriters.finish`` and ``print_table``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from gradx.atomic_file import atomic_write, check_writable
from gradx.commands.eval.model import EvalHeader, EvalReport, PointResult


class EvalWriters:
    """The streaming writers of one run: CSV rows to a file, JSON rows to stdout."""

    def __init__(self) -> None:
        self._sinks: list[Callable[[Sequence[PointResult]], None]] = []
        self._finishers: list[Callable[[EvalReport], None]] = []

    @property
    def sink(self) -> Callable[[Sequence[PointResult]], None] | None:
        """The row sink to pass to the run (None when nothing streams, so rows are not built)."""
        return self._write if self._sinks else None

    def _write(self, rows: Sequence[PointResult]) -> None:
        for write in self._sinks:
            write(rows)

    def add(
        self,
        write: Callable[[Sequence[PointResult]], None],
        finish: Callable[[EvalReport], None] | None = None,
    ) -> None:
        """Stream rows to ``write``; call ``finish`` with the report at the end."""
        self._sinks.append(write)
        if finish is not None:
            self._finishers.append(finish)

    def finish(self, report: EvalReport) -> None:
        """Close the JSON document with the report's summary."""
        for done in self._finishers:
            done(report)


@contextlib.contextmanager
def eval_writers(
    header: EvalHeader, *, json_out: bool, csv_path: Path | None
) -> Iterator[EvalWriters]:
    """Open the writers asked for; the CSV file is committed only if the block finishes."""
    if csv_path is not None:
        check_writable(csv_path)
    writers = EvalWriters()
    with contextlib.ExitStack() as stack:
        if csv_path is not None:
            from gradx.render.eval_csv import CsvStream

            handle = stack.enter_context(atomic_write(csv_path, newline=""))
            writers.add(CsvStream(handle, header).write_rows)
        if json_out:
            from gradx.render.eval_json import JsonStream

            stream = JsonStream(sys.stdout, header)
            writers.add(stream.write_rows, lambda report: stream.finish(report.summary))
        yield writers


def print_table(report: EvalReport, lang: str = "en") -> None:
    """The rich table and summary on stdout, in ``lang``."""
    from gradx.render.console import stdout_console
    from gradx.render.eval_table import render_report

    render_report(report, stdout_console(), lang)
