"""Writes ``gradx eval``'s outputs: streaming JSON/CSV writers for the rows, then the rich table,
the plots, or the ``--quotient`` table.

Nothing here evaluates: the CLI runs ``EvalRequest.run`` with the callback ``eval_writers`` gives
(the header, the rows chunk by chunk, the summary) and hands the finished report to ``emit``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gradx.atomic_file import atomic_write, check_writable
from gradx.commands.eval.model import (
    EvalHeader,
    EvalReport,
    EvalSummary,
    PointResult,
    QuotientReport,
)


class EvalWriters:
    """The streaming writers of one run: CSV rows to a file, JSON rows to stdout.

    They open when the header arrives (the expression parsed, the points known), so a request
    refused before that writes nothing.
    """

    def __init__(self, stack: contextlib.ExitStack, *, json_out: bool, csv_path: Path | None):
        self._stack = stack
        self._json_out = json_out
        self._csv_path = csv_path
        self._sinks: list[Callable[[Sequence[PointResult]], None]] = []
        self._finishers: list[Callable[[EvalSummary], None]] = []

    def on_event(self, event: tuple[Any, ...]) -> None:
        """Take an event of the run: ("header", EvalHeader), ("rows", rows), ("summary", s)."""
        kind = event[0]
        if kind == "header":
            self._open(event[1])
        elif kind == "rows":
            for write in self._sinks:
                write(event[1])
        elif kind == "summary":
            for finish in self._finishers:
                finish(event[1])

    def _open(self, header: EvalHeader) -> None:
        if self._csv_path is not None:
            from gradx.render.eval_csv import CsvStream

            handle = self._stack.enter_context(atomic_write(self._csv_path, newline=""))
            self._sinks.append(CsvStream(handle, header).write_rows)
        if self._json_out:
            from gradx.render.eval_json import JsonStream

            stream = JsonStream(sys.stdout, header)
            self._sinks.append(stream.write_rows)
            self._finishers.append(stream.finish)


@contextlib.contextmanager
def eval_writers(
    *, json_out: bool, csv_path: Path | None
) -> Iterator[Callable[[tuple[Any, ...]], None] | None]:
    """The run's event callback for the writers asked for (None when nothing streams, so rows
    are not built); the CSV file is committed only if the block finishes."""
    if csv_path is None and not json_out:
        yield None
        return
    if csv_path is not None:
        check_writable(csv_path)
    with contextlib.ExitStack() as stack:
        yield EvalWriters(stack, json_out=json_out, csv_path=csv_path).on_event


def emit(
    report: EvalReport | QuotientReport,
    *,
    json_out: bool,
    csv_path: Path | None,
    plot: bool,
    save: Path | None,
    lang: str = "en",
) -> None:
    """After the run: the table (unless JSON or CSV took stdout), then the plots asked for; or
    the ``--quotient`` table and its plots; their words in ``lang``."""
    if isinstance(report, QuotientReport):
        from gradx.render.eval_quotient import emit_quotients

        emit_quotients(report, json_out=json_out, plot=plot, save=save, lang=lang)
        return
    if not json_out and not (csv_path is not None and str(csv_path) == "-"):
        print_table(report, lang)
    if report.plot is not None:
        from gradx.render.eval_plot_output import emit_plots

        emit_plots(report.plot, terminal=plot, save=save, lang=lang)


def print_table(report: EvalReport, lang: str = "en") -> None:
    """The rich table and summary on stdout, in ``lang``."""
    from gradx.render.console import stdout_console
    from gradx.render.eval_table import render_report

    render_report(report, stdout_console(), lang)
