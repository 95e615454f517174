"""``gradx eval``'s entry: ``EvalRequest.from_cli(...)`` checks the options, ``.run()`` returns the
report: parse → evaluate with autograd → references → compare → report.

The points go through ``prepared.PreparedEvaluation`` chunk by chunk; ``--quotient`` is
``quotient.difference_quotients``; ``--plot``/``--save`` add ``plot_data``'s dense series to the
report. Rendering happens in ``gradx.render.eval_output``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gradx.commands.eval.model import EvalReport, QuotientReport
from gradx.commands.eval.prepared import (
    CHUNK_SIZE,
    EvaluationOptions,
    PreparedEvaluation,
    evaluate_expression,
)
from gradx.errors import GradxError
from gradx.expression.vocabulary import MAX_ORDER
from gradx.numerics.settings import DType

Event = tuple[Any, ...]


@dataclass(frozen=True)
class EvalOutput:
    """Where ``gradx eval`` writes its report: output-only options, read by the renderers."""

    json: bool = False  # --json: one JSON document on stdout instead of the table
    csv: Path | None = None  # --csv FILE (- is stdout, instead of the table)
    plot: bool = False  # --plot: draw on the terminal
    save: Path | None = None  # --save FILE.png|svg|pdf
    lang: str = "en"  # --lang: the table's and the plots' words (JSON and CSV stay English)

    @property
    def csv_on_stdout(self) -> bool:
        """``--csv -``: the rows replace the table on standard output."""
        return self.csv is not None and str(self.csv) == "-"

    @property
    def plots(self) -> bool:
        """Whether a plot is drawn (on the terminal or into a file)."""
        return self.plot or self.save is not None


@dataclass(frozen=True)
class EvalRequest:
    """What ``gradx eval`` was asked to do, as given on the command line."""

    expression: str
    at: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    steps: int | None = None
    order: int = 1
    wrt: tuple[str, ...] = ()
    dtype: str = DType.FLOAT64
    rtol: float | None = None
    atol: float | None = None
    all_rows: bool = False  # --all: keep every row, not only the interesting ones
    quotient: bool = False  # --quotient: the difference-quotient table at one point
    overlay: bool = False  # --overlay: f and its derivatives in one panel
    output: EvalOutput = field(default_factory=EvalOutput)

    @classmethod
    def from_cli(
        cls,
        *,
        expression: str,
        at: tuple[str, ...] = (),
        ranges: tuple[str, ...] = (),
        steps: int | None = None,
        order: int = 1,
        wrt: tuple[str, ...] = (),
        dtype: str = DType.FLOAT64,
        rtol: float | None = None,
        atol: float | None = None,
        all_rows: bool = False,
        quotient: bool = False,
        overlay: bool = False,
        json_out: bool = False,
        csv: Path | None = None,
        plot: bool = False,
        save: Path | None = None,
        lang: str | None = None,
    ) -> EvalRequest:
        """Build a request, refusing option values that can never work (GradxError, exit 2).

        Only the options are looked at (no expression, no points, no torch), so that a wrong
        option is refused at once rather than after seconds of imports.
        """
        from gradx.translations import resolve_lang

        output = EvalOutput(json=json_out, csv=csv, plot=plot, save=save, lang=resolve_lang(lang))
        if quotient:
            _check_quotient_output(output)
        else:
            _check_table_output(output, overlay=overlay)
        request = cls(
            expression=expression,
            at=at,
            ranges=ranges,
            steps=steps,
            order=order,
            wrt=wrt,
            dtype=DType.parse(dtype),
            rtol=rtol,
            atol=atol,
            all_rows=all_rows,
            quotient=quotient,
            overlay=overlay,
            output=output,
        )
        if quotient:  # any dtype, and the quotient checks its own order (the table's first)
            return request
        if not DType(request.dtype).finite_differences:
            raise GradxError(
                f"--dtype {request.dtype}: finite differences are noise in {request.dtype}; use "
                "float64 or float32 (--quotient shows the difference quotients in any dtype)"
            )
        if not 1 <= request.order <= MAX_ORDER:
            raise GradxError(f"--order must be between 1 and {MAX_ORDER}")
        for name, value in (("--rtol", request.rtol), ("--atol", request.atol)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise GradxError(f"{name} must be a finite number >= 0")
        return request

    def run(self, on_event: Callable[[Event], None] | None = None) -> EvalReport | QuotientReport:
        """Evaluate the request: the EvalReport (with its plot for ``--plot``/``--save``), or the
        QuotientReport for ``--quotient``.

        ``on_event`` receives ``("header", EvalHeader)`` before the first point, then
        ``("rows", rows)`` chunk by chunk and ``("summary", EvalSummary)`` at the end, for
        streaming writers (every row is built only when it is given).
        """
        if self.quotient:
            from gradx.commands.eval.quotient import difference_quotients

            return difference_quotients(
                self.expression,
                self.at,
                wrt=self.wrt,
                dtype=self.dtype,
                has_range=bool(self.ranges),
                order=self.order,
            )
        from gradx.commands.eval.plot_data import check_plot_request, collect_plot

        prepared = PreparedEvaluation(self)  # imports torch and sympy
        if self.output.plots:
            check_plot_request(prepared, terminal=self.output.plot, overlay=self.overlay)
        if on_event is None:
            report = prepared.run(keep_all_rows=self.all_rows)
        else:
            on_event(("header", prepared.header))
            report = prepared.run(
                keep_all_rows=self.all_rows, on_rows=lambda rows: on_event(("rows", rows))
            )
            on_event(("summary", report.summary))
        if self.output.plots:
            report = replace(report, plot=collect_plot(self, prepared, overlay=self.overlay))
        return report


def _check_quotient_output(output: EvalOutput) -> None:
    if output.csv is not None:
        raise GradxError("--csv is for the table of points; with --quotient use --json")
    if output.plot and output.json:
        raise GradxError("--plot cannot share stdout with --json; use --save FILE.png")
    if output.save is not None:
        from gradx.atomic_file import check_writable
        from gradx.commands.eval.plot_data import SAVE_SUFFIXES

        if output.save.suffix.lower() not in SAVE_SUFFIXES:
            raise GradxError(
                f"--save {output.save}: the file name must end in {', '.join(SAVE_SUFFIXES)}"
            )
        check_writable(output.save)


def _check_table_output(output: EvalOutput, *, overlay: bool) -> None:
    if output.plots or overlay:
        from gradx.commands.eval.plot_data import check_plot_options

        check_plot_options(
            terminal=output.plot, save=output.save, json_out=output.json, overlay=overlay
        )
    if output.csv_on_stdout and (output.plot or output.json):
        what = "--plot" if output.plot else "--json"
        raise GradxError(f"{what} and --csv - both write to standard output: choose one")
    if output.csv is not None:
        from gradx.atomic_file import check_writable

        check_writable(output.csv)


__all__ = [
    "CHUNK_SIZE",
    "EvalOutput",
    "EvalRequest",
    "EvaluationOptions",
    "PreparedEvaluation",
    "evaluate_expression",
]
