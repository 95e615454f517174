"""``gradx eval``'s table: the expression and derivatives, one row per point, notes, summary."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gradx.commands.eval.model import EvalReport, PointResult, Status, key_label
from gradx.render.numbers import TABLE_DIGITS, fmt_error, fmt_value

MAX_FORMULA = 600  # characters of a derivative shown above the table

STATUS_STYLE = {
    Status.OK: "ok",
    Status.NONDIFFERENTIABLE: "nondifferentiable",
    Status.DOMAIN: "domain",
    Status.MISMATCH: "mismatch",
}


def render_report(report: EvalReport, console: Console) -> None:
    """Print the whole report: formulas, table, notes and the summary line."""
    console.print(formulas(report))
    console.print(table(report))
    notes = notes_table(report)
    if notes is not None:
        console.print(notes)
    console.print(summary_line(report))


def formulas(report: EvalReport) -> Group:
    """``f(x) = ...`` and each derivative, as sympy computed them."""
    h = report.header
    args = ", ".join(h.variables)
    lines = [Text.assemble(("f", "bold"), f"({args}) = ", h.expression)]
    if _squash(h.expression_pretty) != _squash(h.expression):
        lines.append(Text(f"{' ' * (len(args) + 4)}= {h.expression_pretty}", style="dim"))
    for key, text in zip(h.keys, h.derivatives_pretty, strict=True):
        if len(text) > MAX_FORMULA:
            text = f"{text[:MAX_FORMULA]}… ({len(text):,} characters; --json has all of it)"
        label = key_label(key, h.variables)
        shown = f"{label}({args})" if len(h.variables) == 1 else label
        lines.append(Text.assemble((shown, "bold"), " = ", text))
    return Group(*lines)


def _squash(text: str) -> str:
    return text.replace(" ", "").replace("**", "^").replace("*", "·")


def table(report: EvalReport) -> Table:
    """One row per point (per point and derivative when there are several derivatives)."""
    h = report.header
    digits = TABLE_DIGITS
    several = len(h.keys) > 1
    grid = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    # Numbers wrap rather than lose digits behind an ellipsis on a narrow terminal.
    for name in h.variables:
        grid.add_column(name, justify="right", overflow="fold")
    grid.add_column("f", justify="right", overflow="fold")
    if several:
        grid.add_column("derivative", no_wrap=True)
    for name in ("autograd", "symbolic", "numeric", "error"):
        grid.add_column(name, justify="right", overflow="fold")
    grid.add_column("status", no_wrap=True)
    for row in report.rows:
        cells_point = [fmt_value(v, digits) for _, v in row.at] + [fmt_value(row.value, digits)]
        for k, d in enumerate(row.derivatives):
            lead = cells_point if k == 0 else [""] * len(cells_point)
            middle = [key_label(d.key, h.variables)] if several else []
            grid.add_row(
                *lead,
                *middle,
                fmt_value(d.autograd, digits),
                fmt_value(d.symbolic, digits),
                fmt_value(d.numeric, digits),
                fmt_error(d.error),
                Text(d.status.value, style=STATUS_STYLE[d.status]),
            )
    if report.hidden_rows:
        grid.caption = (
            f"{report.hidden_rows:,} more rows not shown (the first non-ok rows, the worst "
            "errors and both ends are shown); --all prints every row"
        )
    return grid


def notes_table(report: EvalReport) -> Table | None:
    """Why each non-ok row got its status."""
    rows = [r for r in report.rows if r.note]
    if not rows:
        return None
    notes = Table(show_header=False, box=None, pad_edge=False, title="notes", title_justify="left")
    notes.add_column(no_wrap=True)
    notes.add_column(no_wrap=True)
    notes.add_column(overflow="fold")
    for row in rows:
        notes.add_row(_where(row), Text(row.status.value, style=STATUS_STYLE[row.status]), row.note)
    return notes


def _where(row: PointResult) -> str:
    return ", ".join(f"{name} = {fmt_value(value, TABLE_DIGITS)}" for name, value in row.at)


def summary_line(report: EvalReport) -> Text:
    """``13 points: 13 ok, ...; worst error 2.2e-16 at x = 1``."""
    s = report.summary
    text = Text(f"{s.points:,} point{'s' if s.points != 1 else ''}: ")
    parts = [
        (s.ok, "ok", Status.OK),
        (s.nondifferentiable, "nondifferentiable", Status.NONDIFFERENTIABLE),
        (s.domain, "domain", Status.DOMAIN),
        (s.mismatch, "mismatch", Status.MISMATCH),
    ]
    for i, (count, word, status) in enumerate(parts):
        if i:
            text.append(", ")
        text.append(f"{count:,} {word}", style=STATUS_STYLE[status] if count else "dim")
    if s.worst_error == 0:
        text.append("; worst error 0")
    elif s.worst_error is not None and s.worst_at is not None:
        where = ", ".join(f"{n} = {fmt_value(v, TABLE_DIGITS)}" for n, v in s.worst_at)
        label = key_label(s.worst_key, report.header.variables) if s.worst_key else ""
        text.append(f"; worst error {fmt_error(s.worst_error)} at {where}")
        if len(report.header.keys) > 1 and label:
            text.append(f" ({label})")
    return text
