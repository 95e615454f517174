"""``gradx check``'s output: the overview table, failure details, notes, summary, JSON, progress.

Rendering only: everything shown here was computed by ``gradx.commands.check`` and arrives as the
frozen dataclasses of ``gradx.commands.check.model``.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Sequence
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
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
from gradx.render.cjk_wrap import wrapped
from gradx.render.console import theme
from gradx.render.numbers import fmt_array, fmt_error, fmt_value, json_number
from gradx.translations import N_, Phrase, translate

SCHEMA_VERSION = 1
DIGITS = 8
BUDGETS_SHOWN = 4  # --against: failing tensors described under a failure
AGAINST_FACTOR = 2  # shown in the header; the same as reference_check.FACTOR (no torch here)

LABEL = {
    Verdict.PASS: N_("PASS"),
    Verdict.FAIL: N_("FAIL"),
    Verdict.NONDIFFERENTIABLE: N_("NONDIFF"),
    Verdict.ERROR: N_("ERROR"),
    Verdict.TIMEOUT: N_("TIMEOUT"),
}
# The summary's counts: ``3 pass``.
COUNTED = {
    Verdict.PASS: N_("{count} pass"),
    Verdict.FAIL: N_("{count} fail"),
    Verdict.NONDIFFERENTIABLE: N_("{count} nondifferentiable"),
    Verdict.ERROR: N_("{count} error"),
    Verdict.TIMEOUT: N_("{count} timeout"),
}
STYLE = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.NONDIFFERENTIABLE: "nondifferentiable",
    Verdict.ERROR: "error",
    Verdict.TIMEOUT: "timeout",
}
ORDER_LABEL = {1: N_("first derivatives"), 2: N_("second derivatives (double backward)")}


# ---------------------------------------------------------------------------- text


def render_report(
    report: CheckReport, console: Console, *, values: bool = False, lang: str = "en"
) -> None:
    """Print the whole report: header, one row per target, details, notes, summary.

    With ``values``: each target's inputs and gradients too (``--values``), shaped. ``lang``
    is the language of the words (``en``, ``zh``); numbers and code read the same in both.
    """
    console.print(header_line(report, lang))
    console.print(overview(report, lang))
    for target in report.targets:
        if values:
            for block in values_block(target, lang):
                console.print(block)
        for block in details(target, report, lang):
            console.print(block)
    notes = notes_lines(report, lang)
    if notes:
        console.print(Text(translate("notes:", lang), style="bold"))
        for line in notes:
            if lang == "en":
                console.print(Text(f"  {line}", style="dim"))
            else:  # continuation lines indented too, broken between Chinese characters
                console.print(Padding(wrapped(line, lang, style="dim"), (0, 0, 0, 2)))
        console.print()
    console.print(summary_line(report, lang))


def plain_text(report: CheckReport, width: int = 120, lang: str = "en") -> str:
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
    render_report(report, console, lang=lang)
    return buffer.getvalue().rstrip() + "\n"


def header_line(report: CheckReport, lang: str = "en") -> Text:
    """What was checked and how."""
    s = report.settings
    what = f"gradx check {report.file}" if report.file else "gradx check"
    if s.samples == 1:
        samples = translate("{count} sample", lang, count=s.samples)
    else:
        samples = translate("{count} samples", lang, count=s.samples)
    order = translate(N_("orders 1 and 2") if s.order >= 2 else N_("order 1"), lang)
    device = translate(", on {device}", lang, device=s.device) if s.device != "cpu" else ""
    if s.against:
        extra = f", rtol {s.rtol:g}, atol {s.atol:g}" if s.rtol or s.atol else ""
        how = translate(
            "{dtype} kernel against {reference} in {dtype} and float64{device}, seed {seed}, "
            "{samples}, budget {factor}× the reference's error{extra}",
            lang,
            dtype=s.dtype,
            reference=reference_label(s.against),
            device=device,
            seed=s.seed,
            samples=samples,
            factor=f"{AGAINST_FACTOR:g}",
            extra=extra,
        )
        return Text.assemble((what, "bold"), "\n", (_commas(how, lang), "dim"))
    how = translate(
        "{dtype}{device}, seed {seed}, {samples}, {order}, rtol {rtol}, atol {atol}",
        lang,
        dtype=s.dtype,
        device=device,
        seed=s.seed,
        samples=samples,
        order=order,
        rtol=f"{s.rtol:g}",
        atol=f"{s.atol:g}",
    )
    return Text.assemble((what, "bold"), "\n", (how, "dim"))


def _commas(text: str, lang: str) -> str:
    """Chinese separates the parts of a list with a full-width comma."""
    return text.replace(", ", "，") if lang == "zh" else text


def overview(report: CheckReport, lang: str = "en") -> FittedTable:
    """One row per target: verdict, name, kind, inputs, entries checked, worst errors."""
    table = FittedTable(lang, optional=(N_("kind"), N_("inputs"), N_("entries"), N_("rel")))
    table.add_column(N_("verdict"))
    table.add_column(N_("target"))
    table.add_column(N_("kind"))
    table.add_column(N_("inputs"), overflow="fold")
    table.add_column(N_("entries"), justify="right")
    table.add_column(N_("worst abs"), justify="right")
    table.add_column(N_("rel"), justify="right")
    for target in report.targets:
        worst = target.worst
        table.add_row(
            Text(translate(LABEL[target.verdict], lang), style=STYLE[target.verdict]),
            target.name,
            target.kind,
            inputs_text(target, lang),
            f"{target.entries_checked:,}" if target.checks else "—",
            fmt_error(worst.abs_error) if worst and target.error is None else "—",
            fmt_error(worst.rel_error) if worst and target.error is None else "—",
        )
    return table


class FittedTable:
    """A table that leaves out its least needed columns, and says so, when the terminal is too
    narrow for all of them: its cells are never wrapped or cut, so a number is always whole.

    ``optional`` names the columns that may go, first to go first; column names are English
    templates (shown in ``lang``).
    """

    def __init__(self, lang: str, optional: Sequence[str] = ()) -> None:
        self.lang = lang
        self.optional = tuple(optional)
        self.columns: list[tuple[str, dict[str, Any]]] = []
        self.rows: list[tuple[Any, ...]] = []

    def add_column(self, name: str, **options: Any) -> None:
        """A column headed ``name`` (an English template); ``options`` as rich's."""
        self.columns.append((name, options))

    def add_row(self, *cells: Any) -> None:
        """One row, a cell per column."""
        self.rows.append(cells)

    def table(self, leave_out: Sequence[str] = ()) -> Table:
        """The rich table without the columns in ``leave_out``."""
        grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        kept = [k for k, (name, _) in enumerate(self.columns) if name not in leave_out]
        for k in kept:
            name, options = self.columns[k]
            grid.add_column(translate(name, self.lang), **{"no_wrap": True, **options})
        for row in self.rows:
            grid.add_row(*(row[k] for k in kept))
        return grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        leave_out: tuple[str, ...] = ()
        unbounded = options.update_width(10**6)  # a measurement is clamped to the width
        for count in range(len(self.optional) + 1):
            leave_out = self.optional[:count]
            grid = self.table(leave_out)
            if Measurement.get(console, unbounded, grid).maximum <= options.max_width:
                break
        yield grid
        if leave_out:
            joiner = "、" if self.lang == "zh" else ", "
            names = joiner.join(translate(name, self.lang) for name in leave_out)
            yield Text(
                translate(
                    "{columns} left out at {width} columns (--json has them)",
                    self.lang,
                    columns=names,
                    width=options.max_width,
                ),
                style="dim",
            )


def inputs_text(target: TargetResult, lang: str = "en") -> str:
    """``x (3,), y ()``, and ``+ 2 parameters`` for modules."""
    inputs = target.inputs
    if not inputs:
        return "—"
    parts = [", ".join(f"{i.name} {shape_text(i.shape)}" for i in inputs if i.kind == "input")]
    params = sum(1 for i in inputs if i.kind == "parameter")
    if params == 1:
        parts.append(translate("{count} parameter", lang, count=params))
    elif params:
        parts.append(translate("{count} parameters", lang, count=params))
    return " + ".join(p for p in parts if p)


def _head(target: TargetResult, lang: str) -> str:
    """``name (kind, line 12)``."""
    if target.line:
        return translate(
            "{name} ({kind}, line {line})",
            lang,
            name=target.name,
            kind=target.kind,
            line=target.line,
        )
    return f"{target.name} ({target.kind})"


def details(target: TargetResult, report: CheckReport, lang: str = "en") -> list[Any]:
    """What to show under the overview for a target that did not simply pass."""
    blocks: list[Any] = []
    head = _head(target, lang)
    if target.verdict is Verdict.TIMEOUT:
        blocks.append(_verdict_line(Verdict.TIMEOUT, head, "", lang))
        if target.timeout:
            # one line at 80 columns; the table shows that the other targets went on
            said = translate(
                "stopped after {limit} s (an endless loop at these inputs?); raise --timeout "
                "if slow",
                lang,
                limit=f"{target.timeout:g}",
            )
        else:
            said = translate(
                "stopped after the time limit (an endless loop at these inputs?); raise "
                "--timeout if slow",
                lang,
            )
        blocks.append(_indented(said, lang))
        blocks.append(Text(""))
        return blocks
    if target.error is not None:
        error = target.error
        blocks.append(_verdict_line(Verdict.ERROR, head, "", lang))
        lines = [f"{error.type}: {error.message}" if error.type else error.message]
        if error.location:
            source = f"    {error.source}" if error.source else ""
            if error.in_backward:
                where = translate("in the backward of {location}", lang, location=error.location)
            else:
                where = translate("at {location}", lang, location=error.location)
            lines.append(where + source)
        if error.inputs_hint:
            lines.append(error.inputs_hint.in_lang(lang))
        title, fix = error.title, error.fix
        for said_in, said_title, said_fix in error.explained_in:
            if said_in == lang:
                title, fix = said_title, said_fix
        if title:
            lines.append(
                translate("explained: {title} (gradx explain-error tells more)", lang, title=title)
            )
        if fix:
            lines.append(translate("fix: {fix}", lang, fix=fix))
        blocks.extend(_indented(line, lang) for line in lines)
        blocks.append(Text(""))
        return blocks
    for check in target.checks:
        if check.verdict is Verdict.FAIL:
            blocks.extend(_failure(target, check, head, report, lang))
        elif check.verdict is Verdict.NONDIFFERENTIABLE:
            blocks.extend(_kinks(check, head, report, lang))
    return blocks


def _verdict_line(verdict: Verdict, head: str, rest: str, lang: str) -> RenderableType:
    """``FAIL name (kind, line 3) — rest``: the verdict in its colour, the target in bold."""
    line = Text.assemble(
        (translate(LABEL[verdict], lang) + " ", STYLE[verdict]), (head, "bold"), rest
    )
    return wrapped(line, lang)


def values_block(target: TargetResult, lang: str = "en") -> list[Any]:
    """``--values``: the inputs of the first draw and their gradients, matrices as matrices."""
    if not target.values:
        return []
    blocks: list[Any] = [
        _verdict_line(target.verdict, target.name, " " + translate("values", lang), lang)
    ]
    grid = Table(box=None, show_header=True, header_style="dim", pad_edge=False, padding=(0, 2))
    # On a narrow terminal the names keep their width and the values wrap between numbers.
    names = max(cell_len(item.name) for item in target.values)
    grid.add_column(translate("input", lang), no_wrap=True, min_width=names)
    grid.add_column(translate("value", lang))
    of_sum = any(v.of_sum for v in target.values)
    heading = N_("gradient of output.sum()") if of_sum else N_("gradient")
    grid.add_column(translate(heading, lang))
    for item in target.values:
        grad = (
            translate("— (none reaches it)", lang)
            if item.grad is None
            else _shaped(item.grad, item.shape)
        )
        grid.add_row(item.name, _shaped(item.values, item.shape), grad)
    blocks.append(Padding(grid, (0, 0, 0, 2), expand=False))
    blocks.append(Text(""))
    return blocks


def _shaped(values: Sequence[float], shape: Sequence[int]) -> str:
    """``[[1, 2],\n [3, 4]]``: a matrix one row per line, columns aligned; a vector on one line."""
    return fmt_array([f"{v:.6g}" for v in values], shape)


def _indented(text: str, lang: str = "en") -> Padding:
    return Padding(wrapped(text, lang), (0, 0, 0, 2), expand=False)


def _check_label(check: GradCheck, report: CheckReport, lang: str) -> str:
    if check.order in ORDER_LABEL:
        label = translate(ORDER_LABEL[check.order], lang)
    else:
        label = translate("order {order}", lang, order=check.order)
    if report.settings.samples > 1:
        label += translate(", sample {sample}", lang, sample=check.sample + 1)
    return label


def _at_line(check: GradCheck, lang: str) -> Padding | None:
    """``at x = [1, 2], y = 3``: the input values of a failing check, when they are short."""
    if check.at and all(not v.startswith("shape") for _, v in check.at):
        values = ", ".join(f"{n} = {v}" for n, v in check.at)
        return _indented(translate("at {values}", lang, values=values), lang)
    return None


def _cause_line(check: GradCheck, lang: str) -> Padding | None:
    if check.cause is None:
        return None
    cause = translate("cause: {cause}", lang, cause=check.cause.text.in_lang(lang))
    return _indented(cause, lang)


def _failure(
    target: TargetResult, check: GradCheck, head: str, report: CheckReport, lang: str
) -> list:
    if check.against is not None:
        return _against_failure(check, head, report, lang)
    blocks: list[Any] = []
    if check.method == "random projections":
        count = translate(
            N_("{count} wrong entry located by bisection")
            if check.mismatch_count == 1
            else N_("{count} wrong entries located by bisection"),
            lang,
            count=f"{check.mismatch_count:,}",
        )
    else:
        count = translate(
            "{count} of {total} entries wrong",
            lang,
            count=f"{check.mismatch_count:,}",
            total=f"{check.entries_checked:,}",
        )
    label = _check_label(check, report, lang)
    blocks.append(_verdict_line(Verdict.FAIL, head, f" — {label}{_colon(lang)}{count}", lang))
    blocks.extend(b for b in (_at_line(check, lang), _cause_line(check, lang)) if b is not None)
    if check.mismatches:
        blocks.append(entries_table(check.mismatches, lang))
    return blocks


def _colon(lang: str) -> str:
    """The colon between a label and what follows: full width in Chinese."""
    return "：" if lang == "zh" else ": "


def _against_failure(check: GradCheck, head: str, report: CheckReport, lang: str) -> list:
    blocks: list[Any] = []
    count = translate(
        "{count} of {total} values outside the budget",
        lang,
        count=f"{check.mismatch_count:,}",
        total=f"{check.entries_checked:,}",
    )
    label = translate("against {reference}", lang, reference=reference_label(check.against or ""))
    if report.settings.samples > 1:
        label += translate(", sample {sample}", lang, sample=check.sample + 1)
    blocks.append(_verdict_line(Verdict.FAIL, head, f" — {label}{_colon(lang)}{count}", lang))
    blocks.extend(b for b in (_at_line(check, lang), _cause_line(check, lang)) if b is not None)
    dtype = report.settings.dtype
    wrong = sorted(
        (b for b in check.budgets if b.mismatches), key=lambda b: b.quantity.startswith("vjp")
    )
    for budget in wrong[:BUDGETS_SHOWN]:
        blocks.append(
            _indented(
                translate(
                    "{quantity}: {count} of {total} wrong, max error {error} (reference in "
                    "{dtype}: {reference}), budget {factor}·({relative}·|float64| + "
                    "{absolute})",
                    lang,
                    quantity=budget.quantity,
                    count=f"{budget.mismatches:,}",
                    total=f"{budget.elements:,}",
                    error=fmt_error(budget.kernel_error),
                    dtype=dtype,
                    reference=fmt_error(budget.reference_error),
                    factor=f"{budget.factor:g}",
                    relative=fmt_error(budget.relative),
                    absolute=fmt_error(budget.absolute),
                ),
                lang,
            )
        )
    if check.mismatches:
        blocks.append(against_table(check.mismatches, dtype, lang))
    return blocks


def reference_label(against: str) -> str:
    """``kernels.py::reference`` for ``path/to/kernels.py::reference`` (the file's name only)."""
    file, _, name = against.rpartition("::")
    return f"{file.replace(chr(92), '/').rsplit('/', 1)[-1]}::{name}" if file else against


def against_table(entries: tuple[JacobianEntry, ...], dtype: str, lang: str = "en") -> Table:
    """--against: the ranked wrong values, kernel / reference / float64 and the budget."""
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    grid.add_column(translate("output", lang), no_wrap=True)
    grid.add_column(translate("input", lang), no_wrap=True)
    names = (
        translate("kernel", lang),
        translate("ref {dtype}", lang, dtype=dtype),
        translate("ref {dtype}", lang, dtype="float64"),
        translate("error", lang),
        translate("budget", lang),
    )
    for name in names:
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


def _kinks(check: GradCheck, head: str, report: CheckReport, lang: str) -> list:
    jumps = [k.jump for k in check.kinks]
    if jumps and all(jumps):
        why = translate("the function jumps here", lang)
    elif any(jumps):
        why = translate("left and right slopes differ, or the function jumps", lang)
    else:
        why = translate("left and right slopes differ", lang)
    said = translate(
        N_(
            "no derivative at {count} entry ({why}); autograd's value there is a convention, not a bug"
        )
        if check.kink_count == 1
        else N_(
            "no derivative at {count} entries ({why}); autograd's value there is a convention, "
            "not a bug"
        ),
        lang,
        count=f"{check.kink_count:,}",
        why=why,
    )
    label = _check_label(check, report, lang)
    blocks: list[Any] = [
        _verdict_line(Verdict.NONDIFFERENTIABLE, head, f" — {label}{_colon(lang)}{said}", lang)
    ]
    grid = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    names = [N_("output"), N_("input"), N_("left slope"), N_("right slope"), N_("autograd")]
    if any(jumps):
        names = [N_("output"), N_("input"), N_("what"), N_("left"), N_("right"), N_("autograd")]
    for name in names:
        grid.add_column(
            translate(name, lang),
            justify="left" if name in ("output", "input", "what") else "right",
        )
    for kink in check.kinks:
        cells = [
            index_text(kink.output, kink.output_index),
            index_text(kink.input, kink.input_index),
            fmt_value(kink.left, DIGITS),
            fmt_value(kink.right, DIGITS),
            fmt_value(kink.autograd, DIGITS),
        ]
        if any(jumps):
            what = (
                N_("jumps here (left, right limit)")
                if kink.jump
                else N_("kink (left, right slope)")
            )
            cells.insert(2, translate(what, lang))
        grid.add_row(*cells)
    blocks.append(grid)
    return blocks


def entries_table(entries: tuple[JacobianEntry, ...], lang: str = "en") -> FittedTable:
    """The ranked table of the worst entries."""
    table = FittedTable(lang, optional=(N_("rel error"), N_("tolerance"), N_("abs error")))
    table.add_column(N_("output"))
    table.add_column(N_("input"))
    for name in (
        N_("autograd"),
        N_("numeric"),
        N_("abs error"),
        N_("rel error"),
        N_("tolerance"),
    ):
        table.add_column(name, justify="right")
    for e in entries:
        table.add_row(
            index_text(e.output, e.output_index),
            index_text(e.input, e.input_index),
            fmt_value(e.autograd, DIGITS),
            fmt_value(e.numeric, DIGITS),
            fmt_error(e.abs_error),
            fmt_error(e.rel_error),
            fmt_error(max(e.tolerance, 2 * e.numeric_error)),
        )
    return table


def notes_lines(report: CheckReport, lang: str = "en") -> list[str]:
    """Things worth knowing that are not failures: fallbacks, projections, skipped names."""
    lines: list[str] = []
    for target in report.targets:
        seen: set[Phrase] = set()
        for check in target.checks:
            items = list(check.notes)
            if check.fallback_reason and check.order == 1:
                items.append(check.fallback_reason)
            for note in items:
                if note not in seen:
                    seen.add(note)
                    lines.append(f"{target.name}{_colon(lang)}{note.in_lang(lang)}")
    for name, why in report.skipped:
        # The reason comes from loading the file (shared with error messages): English.
        lines.append(translate("skipped {name}: {why}", lang, name=name, why=why))
    return lines


def summary_line(report: CheckReport, lang: str = "en") -> Text:
    """``5 targets: 3 pass, 1 fail, 1 timeout (2.1 s)`` in the colour of the worst verdict."""
    total = len(report.targets)
    parts = [
        translate(COUNTED[v], lang, count=report.count(v))
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
    text = translate(
        N_("{count} target: {parts}{seconds}")
        if total == 1
        else N_("{count} targets: {parts}{seconds}"),
        lang,
        count=total,
        parts=_commas(", ".join(parts), lang),
        seconds=seconds,
    )
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
            "inputs_hint": None if t.error.inputs_hint is None else str(t.error.inputs_hint),
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
        "cause": None if c.cause is None else {"id": c.cause.id, "text": str(c.cause.text)},
        "worst": _entry(c.worst) if c.worst else None,
        "mismatches": [_entry(e) for e in c.mismatches],
        "kink_count": c.kink_count,
        "kinks": [_kink(k) for k in c.kinks],
        "evaluations": c.evaluations,
        "localisation_evaluations": c.localisation_evaluations,
        "vectorised": c.vectorised,
        "fallback_reason": None if c.fallback_reason is None else str(c.fallback_reason),
        "notes": [str(note) for note in c.notes],
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

    def __init__(
        self, console: Console | None = None, timeout: float | None = None, lang: str = "en"
    ) -> None:
        from gradx.render.console import stderr_console

        self.lang = lang
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
                description = translate("importing torch and the file", self.lang)
            else:
                description = self.describe(time.monotonic() - self.target_start)
            self.progress.update(
                self.task, total=max(self.total, 1), completed=self.done, description=description
            )
            self.progress.refresh()

    def describe(self, elapsed: float) -> str:
        """``checking d2l_loop 12 s of 20 s``: the target and its time against the limit."""
        if self.done >= self.total:
            return translate("done", self.lang)
        if self.timeout:
            return translate(
                "checking {name} {elapsed} s of {limit} s",
                self.lang,
                name=self.current,
                elapsed=f"{elapsed:.0f}",
                limit=f"{self.timeout:g}",
            )
        return translate(
            "checking {name} {elapsed} s", self.lang, name=self.current, elapsed=f"{elapsed:.0f}"
        )

    def _begin(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn(translate("{task.completed}/{task.total} targets", self.lang)),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("loading", total=max(self.total, 1))
        self.progress.start()


def emit(report: CheckReport, *, json_out: bool, values: bool = False, lang: str = "en") -> None:
    """Print the report to stdout: the JSON document (English whatever ``lang`` says: a machine
    format) or the rich report in ``lang``."""
    import sys

    from gradx.render.console import stdout_console

    if json_out:
        write_json(report, sys.stdout)
    else:
        render_report(report, stdout_console(), values=values, lang=lang)
