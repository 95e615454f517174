"""Wires ``gradx eval``'s outputs: streaming JSON/CSV writers and the rich table."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from gradx.atomic_file import atomic_write, check_writable
from gradx.commands.eval.model import EvalReport, PointResult
from gradx.commands.eval.pipeline import PreparedEvaluation
from gradx.errors import ExitCode


def run_and_emit(
    prepared: PreparedEvaluation,
    *,
    json_out: bool,
    all_rows: bool,
    csv_path: Path | None,
) -> tuple[EvalReport, ExitCode]:
    """Run the evaluation, streaming rows to the JSON/CSV writers, then print the table."""
    from gradx.render.console import stdout_console

    if csv_path is not None:
        check_writable(csv_path)
    with _writers(prepared, json_out=json_out, csv_path=csv_path) as (sink, finish):
        report = prepared.run(keep_all_rows=all_rows, on_rows=sink)
        finish(report)
    if not json_out:
        from gradx.render.eval_table import render_report

        render_report(report, stdout_console())
    return report, ExitCode.OK if report.exit_ok else ExitCode.FAILED


@contextlib.contextmanager
def _writers(prepared: PreparedEvaluation, *, json_out: bool, csv_path: Path | None) -> Iterator:
    sinks = []
    finishers = []
    with contextlib.ExitStack() as stack:
        if csv_path is not None:
            from gradx.render.eval_csv import CsvStream

            handle = stack.enter_context(atomic_write(csv_path, newline=""))
            sinks.append(CsvStream(handle, prepared.header).write_rows)
        if json_out:
            from gradx.render.eval_json import JsonStream

            stream = JsonStream(sys.stdout, prepared.header)
            sinks.append(stream.write_rows)
            finishers.append(lambda report: stream.finish(report.summary))

        def sink(rows: Sequence[PointResult]) -> None:
            for write in sinks:
                write(rows)

        def finish(report: EvalReport) -> None:
            for done in finishers:
                done(report)

        yield (sink if sinks else None), finish
