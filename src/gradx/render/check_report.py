"""``gradx check``'s output: the overview table, failure details, notes, summary, JSON, progress.

Rendering only: everything shown here was computed by ``gradx.commands.check`` and arrives as the
frozen dataclasses of ``gradx.commands.check.model``.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Sequence
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from gradx.commands.check.model import (
    CheckReport,
    GradCheck,
    JacobianEntry,
    Kink,
    TargetResult,
    Verdict,
)
from gradx.render.console import theme
from gradx.render.numbers import fmt_array, fmt_error, fmt_value, json_number

SCHEMA_VERSION = 1
DIGITS = 8
BUDGETS_SHOWN = 4  # --against: failing tensors described under a failure
AGAINST_FACTOR = 2  # shown in the header; the same as reference_check.FACTOR (no torch here)

LABEL = {
    Verdict.PASS: "PASS",
    Verdict.FAIL: "FAIL",
    Verdict.NONDIFFERENTIABLE: "NONDIFF",
    Verdict.ERROR: "ERROR",
    Verdict.TIMEOUT: "TIMEOUT",
}
STYLE = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.NONDIFFERENTIABLE: "nondifferentiable",
    Verdict.ERROR: "error",
    Verdict.TIMEOUT: "timeout",
}
ORDER_LABEL = {1: "first derivatives", 2: "second derivatives (double backward)"}


# ---------------------------------------------------------------------------- text


def render_report(report: CheckReport, console: Console, *, values: bool = False) -> None:
    """Print the whole report: header, one row per target, details, notes, summary.

    With ``values``: each target's inputs and gradients too (``--values``), shaped.
    """
    console.print(header_line(report))
    console.print(overview(report))
    for target in report.targets:
        if values:
            for block in values_block(target):
                console.print(block)
        for block in details(target, report):
            console.print(block)
    notes = notes_lines(report)
    if notes:
        console.print(Text("notes:", style="bold"))
        for line in notes:
            console.print(Text(f"  {line}", style="dim"))
        console.print()
    console.print(summary_line(report))


def plain_text(report: CheckReport, width: int = 120) -> str:
    """The report as plain text (no colours), e.g. for an AssertionError message."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=True,
        force_terminal=False,
        highlight=False,
        theme=theme(),
    )
    render_report(report, console)
    return buffer.getvalue().rstrip() + "\n"


def header_line(report: CheckReport) -> Text:
    """What was checked and how."""
    s = report.settings
    what = f"gradx check {report.file}" if report.file else "gradx check"
    samples = f"{s.samples} sample{'s' if s.samples != 1 else ''}"
    order = "orders 1 and 2" if s.order >= 2 else "order 1"
    device = f", on {s.device}" if s.device != "cpu" else ""
    if s.against:
        reference = reference_label(s.against)
        extra = f", rtol {s.rtol:g}, atol {s.atol:g}" if s.rtol or s.atol else ""
        return Text.assemble(
            (what, "bold"),
            "\n",
            (
                f"{s.dtype} kernel against {reference} in {s.dtype} and float64{device}, "
                f"seed {s.seed}, {samples}, budget {AGAINST_FACTOR:g}× the reference's error"
                f"{extra}",
                "dim",
            ),
        )
    return Text.assemble(
        (what, "bold"),
        "\n",
        (
            f"{s.dtype}{device}, seed {s.seed}, {samples}, {order}, rtol {s.rtol:g}, "
            f"atol {s.atol:g}",
            "dim",
        ),
    )


def overview(report: CheckReport) -> Table:
    """One row per target: verdict, name, kind, inputs, entries checked, worst errors."""
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    grid.add_column("verdict", no_wrap=True)
    grid.add_column("target", no_wrap=True)
    grid.add_column("kind", no_wrap=True)
    grid.add_column("inputs", overflow="fold")
    grid.add_column("entries", justify="right", no_wrap=True)
    grid.add_column("worst abs", justify="right", no_wrap=True)
    grid.add_column("rel", justify="right", no_wrap=True)
    for target in report.targets:
        worst = target.worst
        grid.add_row(
            Text(LABEL[target.verdict], style=STYLE[target.verdict]),
            target.name,
            target.kind,
            inputs_text(target),
            f"{target.entries_checked:,}" if target.checks else "—",
            fmt_error(worst.abs_error) if worst and target.error is None else "—",
            fmt_error(worst.rel_error) if worst and target.error is None else "—",
        )
    return grid


def inputs_text(target: TargetResult) -> str:
    """``x (3,), y ()``, and ``+ 2 parameters`` for modules."""
    inputs = target.inputs
    if not inputs:
        return "—"
    parts = [", ".join(f"{i.name} {shape_text(i.shape)}" for i in inputs if i.kind == "input")]
    params = sum(1 for i in inputs if i.kind == "parameter")
    if params:
        parts.append(f"{params} parameter{'s' if params != 1 else ''}")
    return " + ".join(p for p in parts if p)


def details(target: TargetResult, report: CheckReport) -> list[Any]:
    """What to show under the overview for a target that did not simply pass."""
    blocks: list[Any] = []
    head = f"{target.name} ({target.kind}{f', line {target.line}' if target.line else ''})"
    if target.verdict is Verdict.TIMEOUT:
        limit = f"{target.timeout:g} s" if target.timeout else "the time limit"
        blocks.append(Text.assemble(("TIMEOUT ", STYLE[Verdict.TIMEOUT]), (head, "bold")))
        blocks.append(
            _indented(
                # one line at 80 columns; the table shows that the other targets went on
                f"stopped after {limit} (an endless loop at these inputs?); raise --timeout if slow"
            )
        )
        blocks.append(Text(""))
        return blocks
    if target.error is not None:
        error = target.error
        blocks.append(Text.assemble(("ERROR ", STYLE[Verdict.ERROR]), (head, "bold")))
        lines = [f"{error.type}: {error.message}" if error.type else error.message]
        if error.location:
            source = f"    {error.source}" if error.source else ""
            where = "in the backward of" if error.in_backward else "at"
            lines.append(f"{where} {error.location}{source}")
        if error.inputs_hint:
            lines.append(error.inputs_hint)
        if error.title:
            lines.append(f"explained: {error.title} (gradx explain-error tells more)")
        if error.fix:
            lines.append(f"fix: {error.fix}")
        blocks.extend(_indented(line) for line in lines)
        blocks.append(Text(""))
        return blocks
    for check in target.checks:
        if check.verdict is Verdict.FAIL:
            blocks.extend(_failure(target, check, head, report))
        elif check.verdict is Verdict.NONDIFFERENTIABLE:
            blocks.extend(_kinks(check, head, report))
    return blocks


def values_block(target: TargetResult) -> list[Any]:
    """``--values``: the inputs of the first draw and their gradients, matrices as matrices."""
    if not target.values:
        return []
    verdict = target.verdict
    blocks: list[Any] = [
        Text.assemble(
            (f"{verdict.value.upper()} ", STYLE[verdict]), (target.name, "bold"), " values"
        )
    ]
    grid = Table(box=None, show_header=True, header_style="dim", pad_edge=False, padding=(0, 2))
    grid.add_column("input", no_wrap=True)
    grid.add_column("value", no_wrap=True)
    of_sum = any(v.of_sum for v in target.values)
    grid.add_column("gradient of output.sum()" if of_sum else "gradient", no_wrap=True)
    for item in target.values:
        grad = "— (none reaches it)" if item.grad is None else _shaped(item.grad, item.shape)
        grid.add_row(item.name, _shaped(item.values, item.shape), grad)
    blocks.append(Padding(grid, (0, 0, 0, 2), expand=False))
    blocks.append(Text(""))
    return blocks


def _shaped(values: Sequence[float], shape: Sequence[int]) -> str:
    """``[[1, 2],\n [3, 4]]``: a matrix one row per line, columns aligned; a vector on one line."""
    return fmt_array([f"{v:.6g}" for v in values], shape)


def _indented(text: str) -> Padding:
    return Padding(Text(text), (0, 0, 0, 2), expand=False)


def _check_label(check: GradCheck, report: CheckReport) -> str:
    label = ORDER_LABEL.get(check.order, f"order {check.order}")
    if report.settings.samples > 1:
        label += f", sample {check.sample + 1}"
    return label


def _failure(target: TargetResult, check: GradCheck, head: str, report: CheckReport) -> list:
    if check.against is not None:
        return _against_failure(check, head, report)
    blocks: list[Any] = []
    count = f"{check.mismatch_count:,} of {check.entries_checked:,} entries wrong"
    if check.method == "random projections":
        count = f"{check.mismatch_count:,} wrong entr{'y' if check.mismatch_count == 1 else 'ies'} located by bisection"
    blocks.append(
        Text.assemble(
            ("FAIL ", STYLE[Verdict.FAIL]),
            (head, "bold"),
            f" — {_check_label(check, report)}: {count}",
        )
    )
    if check.at and all(not v.startswith("shape") for _, v in check.at):
        blocks.append(_indented("at " + ", ".join(f"{n} = {v}" for n, v in check.at)))
    if check.cause is not None:
        blocks.append(_indented(f"cause: {check.cause.text}"))
    if check.mismatches:
        blocks.append(entries_table(check.mismatches))
    return blocks


def _against_failure(check: GradCheck, head: str, report: CheckReport) -> list:
    blocks: list[Any] = []
    count = f"{check.mismatch_count:,} of {check.entries_checked:,} values outside the budget"
    label = f"against {reference_label(check.against or '')}"
    if report.settings.samples > 1:
        label += f", sample {check.sample + 1}"
    blocks.append(
        Text.assemble(("FAIL ", STYLE[Verdict.FAIL]), (head, "bold"), f" — {label}: {count}")
    )
    if check.at and all(not v.startswith("shape") for _, v in check.at):
        blocks.append(_indented("at " + ", ".join(f"{n} = {v}" for n, v in check.at)))
    if check.cause is not None:
        blocks.append(_indented(f"cause: {check.cause.text}"))
    dtype = report.settings.dtype
    wrong = sorted(
        (b for b in check.budgets if b.mismatches), key=lambda b: b.quantity.startswith("vjp")
    )
    for budget in wrong[:BUDGETS_SHOWN]:
        blocks.append(
            _indented(
                f"{budget.quantity}: {budget.mismatches:,} of {budget.elements:,} wrong, max "
                f"error {fmt_error(budget.kernel_error)} (reference in {dtype}: "
                f"{fmt_error(budget.reference_error)}), budget {budget.factor:g}·"
                f"({fmt_error(budget.relative)}·|float64| + {fmt_error(budget.absolute)})"
            )
        )
    if check.mismatches:
        blocks.append(against_table(check.mismatches, dtype))
    return blocks


def reference_label(against: str) -> str:
    """``kernels.py::reference`` for ``path/to/kernels.py::reference`` (the file's name only)."""
    file, _, name = against.rpartition("::")
    return f"{file.replace(chr(92), '/').rsplit('/', 1)[-1]}::{name}" if file else against


def against_table(entries: tuple[JacobianEntry, ...], dtype: str) -> Table:
    """--against: the ranked wrong values, kernel / reference / float64 and the budget."""
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    grid.add_column("output", no_wrap=True)
    grid.add_column("input", no_wrap=True)
    for name in ("kernel", f"ref {dtype}", "ref float64", "error", "budget"):
        grid.add_column(name, justify="right", overflow="fold")
    for e in entries:
        grid.add_row(
            index_text(e.output, e.output_index),
            index_text(e.input, e.input_index),
            fmt_value(e.autograd, DIGITS),
            "—" if e.reference is None else fmt_value(e.reference, DIGITS),
            fmt_value(e.numeric, DIGITS),
            fmt_error(e.abs_error),
            fmt_error(e.tolerance),
        )
    return grid


def _kinks(check: GradCheck, head: str, report: CheckReport) -> list:
    jumps = [k.jump for k in check.kinks]
    if jumps and all(jumps):
        why = "the function jumps here"
    elif any(jumps):
        why = "left and right slopes differ, or the function jumps"
    else:
        why = "left and right slopes differ"
    blocks: list[Any] = [
        Text.assemble(
            ("NONDIFF ", STYLE[Verdict.NONDIFFERENTIABLE]),
            (head, "bold"),
            f" — {_check_label(check, report)}: no derivative at "
            f"{check.kink_count:,} entr{'y' if check.kink_count == 1 else 'ies'} "
            f"({why}); autograd's value there is a convention, not a bug",
        )
    ]
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    names = ["output", "input", "left slope", "right slope", "autograd"]
    if any(jumps):
        names = ["output", "input", "what", "left", "right", "autograd"]
    for name in names:
        grid.add_column(name, justify="left" if name in ("output", "input", "what") else "right")
    for kink in check.kinks:
        cells = [
            index_text(kink.output, kink.output_index),
            index_text(kink.input, kink.input_index),
            fmt_value(kink.left, DIGITS),
            fmt_value(kink.right, DIGITS),
            fmt_value(kink.autograd, DIGITS),
        ]
        if any(jumps):
            what = "jumps here (left, right limit)" if kink.jump else "kink (left, right slope)"
            cells.insert(2, what)
        grid.add_row(*cells)
    blocks.append(grid)
    return blocks


def entries_table(entries: tuple[JacobianEntry, ...]) -> Table:
    """The ranked table of the worst entries."""
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    grid.add_column("output", no_wrap=True)
    grid.add_column("input", no_wrap=True)
    for name in ("autograd", "numeric", "abs error", "rel error", "tolerance"):
        grid.add_column(name, justify="right", overflow="fold")
    for e in entries:
        grid.add_row(
            index_text(e.output, e.output_index),
            index_text(e.input, e.input_index),
            fmt_value(e.autograd, DIGITS),
            fmt_value(e.numeric, DIGITS),
            fmt_error(e.abs_error),
            fmt_error(e.rel_error),
            fmt_error(max(e.tolerance, 2 * e.numeric_error)),
        )
    return grid


def notes_lines(report: CheckReport) -> list[str]:
    """Things worth knowing that are not failures: fallbacks, projections, skipped names."""
    lines: list[str] = []
    for target in report.targets:
        seen: set[str] = set()
        for check in target.checks:
            items = list(check.notes)
            if check.fallback_reason and check.order == 1:
                items.append(check.fallback_reason)
            for note in items:
                if note not in seen:
                    seen.add(note)
                    lines.append(f"{target.name}: {note}")
    for name, why in report.skipped:
        lines.append(f"skipped {name}: {why}")
    return lines


def summary_line(report: CheckReport) -> Text:
    """``5 targets: 3 pass, 1 fail, 1 timeout (2.1 s)`` in the colour of the worst verdict."""
    total = len(report.targets)
    parts = [
        f"{report.count(v)} {v.value}"
        for v in (
            Verdict.PASS,
            Verdict.NONDIFFERENTIABLE,
            Verdict.FAIL,
            Verdict.ERROR,
            Verdict.TIMEOUT,
        )
        if report.count(v)
    ]
    seconds = f" ({report.seconds:.1f} s)" if report.seconds else ""
    text = f"{total} target{'s' if total != 1 else ''}: {', '.join(parts)}{seconds}"
    line = Text(text, style="bold")
    line.stylize(STYLE[report.verdict])
    return line


def index_text(name: str, index: tuple[int, ...]) -> str:
    """``x[1, 2]``; a scalar is just its name."""
    return f"{name}[{', '.join(map(str, index))}]" if index else name


def shape_text(shape: tuple[int, ...]) -> str:
    """``(3, 4)``, ``(3,)`` or ``()``."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(map(str, shape)) + ")"


# ---------------------------------------------------------------------------- JSON


def report_dict(report: CheckReport) -> dict[str, Any]:
    """The JSON document (schema in docs/check.md)."""
    s = report.settings
    return {
        "schema": SCHEMA_VERSION,
        "file": report.file,
        "settings": {
            "dtype": s.dtype,
            "rtol": s.rtol,
            "atol": s.atol,
            "seed": s.seed,
            "samples": s.samples,
            "order": s.order,
            "timeout": s.timeout,
            "against": s.against,
            "device": s.device,
        },
        "targets": [_target(t) for t in report.targets],
        "skipped": [{"name": n, "reason": why} for n, why in report.skipped],
        "summary": {
            "verdict": report.verdict.value,
            "total": len(report.targets),
            **{v.value: report.count(v) for v in Verdict},
            "exit_code": report.exit_code,
            "seconds": round(report.seconds, 3),
        },
    }


def write_json(report: CheckReport, stream: IO[str]) -> None:
    """Write the JSON document and a newline."""
    json.dump(report_dict(report), stream, indent=2, ensure_ascii=False, allow_nan=False)
    stream.write("\n")


def _target(t: TargetResult) -> dict[str, Any]:
    return {
        "name": t.name,
        "kind": t.kind,
        "line": t.line,
        "verdict": t.verdict.value,
        "inputs": [
            {"name": i.name, "shape": list(i.shape), "kind": i.kind, "dtype": i.dtype}
            for i in t.inputs
        ],
        "entries_checked": t.entries_checked,
        "worst": _entry(t.worst) if t.worst else None,
        "checks": [_check(c) for c in t.checks],
        "error": None
        if t.error is None
        else {
            "type": t.error.type or None,
            "message": t.error.message,
            "location": t.error.location,
            "source": t.error.source,
            "title": t.error.title,
            "fix": t.error.fix,
            "in_backward": t.error.in_backward,
            "inputs_hint": t.error.inputs_hint,
        },
        "timeout": t.timeout,
        "seconds": round(t.seconds, 3),
        "values": [
            {
                "name": v.name,
                "shape": list(v.shape),
                "values": [json_number(x) for x in v.values],
                "grad": None if v.grad is None else [json_number(x) for x in v.grad],
                "grad_of_sum": v.of_sum,
            }
            for v in t.values
        ],
    }


def _check(c: GradCheck) -> dict[str, Any]:
    return {
        "order": c.order,
        "sample": c.sample,
        "verdict": c.verdict.value,
        "method": c.method,
        "inputs": [{"name": i.name, "shape": list(i.shape), "kind": i.kind} for i in c.inputs],
        "at": dict(c.at),
        "output_shape": list(c.output_shape),
        "entries_checked": c.entries_checked,
        "mismatch_count": c.mismatch_count,
        "cause": None if c.cause is None else {"id": c.cause.id, "text": c.cause.text},
        "worst": _entry(c.worst) if c.worst else None,
        "mismatches": [_entry(e) for e in c.mismatches],
        "kink_count": c.kink_count,
        "kinks": [_kink(k) for k in c.kinks],
        "evaluations": c.evaluations,
        "localisation_evaluations": c.localisation_evaluations,
        "vectorised": c.vectorised,
        "fallback_reason": c.fallback_reason,
        "notes": list(c.notes),
        "against": c.against,
        "budgets": [
            {
                "quantity": b.quantity,
                "elements": b.elements,
                "mismatches": b.mismatches,
                "kernel_error": json_number(b.kernel_error),
                "reference_error": json_number(b.reference_error),
                "relative": json_number(b.relative),
                "absolute": json_number(b.absolute),
                "factor": b.factor,
            }
            for b in c.budgets
        ],
    }


def _entry(e: JacobianEntry) -> dict[str, Any]:
    return {
        "output": e.output,
        "output_index": list(e.output_index),
        "input": e.input,
        "input_index": list(e.input_index),
        "autograd": json_number(e.autograd),
        "numeric": json_number(e.numeric),
        "abs_error": json_number(e.abs_error),
        "rel_error": json_number(e.rel_error),
        "tolerance": json_number(e.tolerance),
        "numeric_error": json_number(e.numeric_error),
        "reference": None if e.reference is None else json_number(e.reference),
    }


def _kink(k: Kink) -> dict[str, Any]:
    return {
        "output": k.output,
        "output_index": list(k.output_index),
        "input": k.input,
        "input_index": list(k.input_index),
        "left": json_number(k.left),
        "right": json_number(k.right),
        "autograd": json_number(k.autograd),
        "jump": k.jump,
    }


# ---------------------------------------------------------------------------- progress


class CheckProgress:
    """A progress bar on stderr, shown only on a terminal and only once checking takes a moment."""

    DELAY = 0.5

    def __init__(self, console: Console | None = None, timeout: float | None = None) -> None:
        from gradx.render.console import stderr_console

        self.timeout = timeout
        self.target_start = time.monotonic()
        self.console = console or stderr_console()
        self.enabled = self.console.is_terminal
        self.start = time.monotonic()
        self.progress: Any = None  # a rich Progress once shown
        self.task: Any = None
        self.total = 0
        self.done = 0
        self.current = ""

    def __enter__(self) -> CheckProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, event: tuple) -> None:
        """Take an event from the runner: ("start", i, n, name), ("done", i, n, result), ("tick",)."""
        if not self.enabled:
            return
        if event[0] == "start":
            self.total, self.current = event[2], event[3]
            self.target_start = time.monotonic()
        elif event[0] == "done":
            self.done = event[1] + 1
        if self.progress is None and time.monotonic() - self.start >= self.DELAY:
            self._begin()
        if self.progress is not None:
            if not self.current:
                description = "importing torch and the file"
            else:
                description = self.describe(time.monotonic() - self.target_start)
            self.progress.update(
                self.task, total=max(self.total, 1), completed=self.done, description=description
            )
            self.progress.refresh()

    def describe(self, elapsed: float) -> str:
        """``checking d2l_loop 12 s of 20 s``: the target and its time against the limit."""
        if self.done >= self.total:
            return "done"
        limit = f" of {self.timeout:g} s" if self.timeout else ""
        return f"checking {self.current} {elapsed:.0f} s{limit}"

    def _begin(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} targets"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("loading", total=max(self.total, 1))
        self.progress.start()


def emit(report: CheckReport, *, json_out: bool, values: bool = False) -> None:
    """Print the report to stdout: the JSON document or the rich report."""
    import sys

    from gradx.render.console import stdout_console

    if json_out:
        write_json(report, sys.stdout)
    else:
        render_report(report, stdout_console(), values=values)
