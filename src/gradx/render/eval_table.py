"""``gradx eval``'s table: the expression and derivatives, one row per point, notes, summary.

Every word is a template said in the report's language (``lang``, ``zh/eval.toml``). In Chinese
each status is a Chinese word (``STATUS_WORDS``); the summary line gives the English id next to
it once, e.g. ``不可微 (nondifferentiable)``: the word JSON, CSV and the docs use.
"""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from gradx.commands.eval.model import EvalReport, PointResult, Status, key_label
from gradx.render.numbers import TABLE_DIGITS, fmt_error, fmt_value
from gradx.translations import N_, translate

MAX_FORMULA = 600  # characters of a derivative shown above the table

STATUS_STYLE = {
    Status.OK: "ok",
    Status.NONDIFFERENTIABLE: "nondifferentiable",
    Status.DOMAIN: "domain",
    Status.INCONCLUSIVE: "inconclusive",
    Status.MISMATCH: "mismatch",
}

# The status words as the reader sees them (the JSON keeps ``Status.value``).
STATUS_WORDS = {
    Status.OK: N_("ok"),
    Status.NONDIFFERENTIABLE: N_("nondifferentiable"),
    Status.DOMAIN: N_("domain"),
    Status.INCONCLUSIVE: N_("inconclusive"),
    Status.MISMATCH: N_("mismatch"),
}

# Column names (the variables and f are names, the same in every language).
COLUMNS = {
    "derivative": N_("derivative"),
    "autograd": N_("autograd"),
    "symbolic": N_("symbolic"),
    "numeric": N_("numeric"),
    "error": N_("error"),
    "status": N_("status"),
}


NO_LINE_START = "，。；：、）！？"  # Chinese punctuation stays with the character before it


def status_text(status: Status, lang: str) -> Text:
    """A status in its colour, in ``lang``."""
    return Text(translate(STATUS_WORDS[status], lang), style=STATUS_STYLE[status])


def render_report(report: EvalReport, console: Console, lang: str = "en") -> None:
    """Print the whole report in ``lang``: formulas, table, notes and the summary line."""
    console.print(formulas(report, lang))
    console.print(table(report, console, lang))
    notes = notes_table(report, lang, console.width)
    if notes is not None:
        console.print(notes)
    console.print(summary_line(report, lang, console.width))


def formulas(report: EvalReport, lang: str = "en") -> Group:
    """``f(x) = ...`` and each derivative, as sympy computed them."""
    h = report.header
    args = ", ".join(h.variables)
    lines = [Text.assemble(("f", "bold"), f"({args}) = ", h.expression)]
    if _squash(h.expression_pretty) != _squash(h.expression):
        lines.append(Text(f"{' ' * (len(args) + 4)}= {h.expression_pretty}", style="dim"))
    for key, text in zip(h.keys, h.derivatives_pretty, strict=True):
        if len(text) > MAX_FORMULA:
            cut = translate(
                "({count} characters; --json has all of it)", lang, count=f"{len(text):,}"
            )
            text = f"{text[:MAX_FORMULA]}… {cut}"
        label = key_label(key, h.variables)
        shown = f"{label}({args})" if len(h.variables) == 1 else label
        lines.append(Text.assemble((shown, "bold"), " = ", text))
    return Group(*lines)


def _squash(text: str) -> str:
    return text.replace(" ", "").replace("**", "^").replace("*", "·")


# Columns left out, in this order, when the table is wider than the terminal: the references
# are summed up by the error column, and --json/--csv keep every column.
DROPPABLE = (("numeric",), ("numeric", "symbolic"))


def table(report: EvalReport, console: Console | None = None, lang: str = "en") -> Table:
    """One row per point (per point and derivative when there are several derivatives).

    A number is never wrapped: when the table is wider than ``console``, the reference columns
    are left out (the caption says so), and when even that is too wide each point becomes a
    block of ``name value`` lines.
    """
    grid = _grid(report, (), lang)
    if console is None:
        return grid
    if _fits(grid, console):
        return _caption_by_cells(grid, console)
    for dropped in DROPPABLE:
        grid = _grid(report, dropped, lang)
        if _fits(grid, console):
            names = [translate(COLUMNS[name], lang) for name in dropped]
            if len(names) == 1:
                said = translate(
                    "{column} left out at {width} columns (--json has it)",
                    lang,
                    column=names[0],
                    width=console.width,
                )
            else:
                said = translate(
                    "{first}, {second} left out at {width} columns (--json has them)",
                    lang,
                    first=names[0],
                    second=names[1],
                    width=console.width,
                )
            grid.caption = _join_caption(grid.caption, said)
            grid.caption_justify = "left"
            return _caption_by_cells(grid, console)
    return _caption_by_cells(_vertical(report, lang), console)


def _caption_by_cells(grid: Table, console: Console) -> Table:
    """A Chinese caption broken to the table's width by cells (rich breaks lines at spaces,
    which Chinese hardly has), left-aligned; other captions as they are."""
    caption = str(grid.caption or "")
    if cell_len(caption) != len(caption):
        grid.caption = fit_lines(caption, min(_width(grid, console), console.width))
        grid.caption_justify = "left"
    return grid


def _fits(grid: Table, console: Console) -> bool:
    return _width(grid, console) <= console.width


def _width(grid: Table, console: Console) -> int:
    from rich.measure import Measurement

    # measured without the terminal's limit, which Measurement would clamp it to
    unlimited = console.options.update(max_width=1_000_000)
    return Measurement.get(console, unlimited, grid).maximum


def _join_caption(first: object, second: str) -> str:
    return f"{first}\n{second}" if first else second


def _grid(report: EvalReport, dropped: tuple[str, ...], lang: str) -> Table:
    h = report.header
    digits = TABLE_DIGITS
    several = len(h.keys) > 1
    grid = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    # A number is one cell that never wraps: a wrapped "2.44929e-16" reads as 2.44929.
    for name in h.variables:
        grid.add_column(name, justify="right", no_wrap=True)
    grid.add_column("f", justify="right", no_wrap=True)
    if several:
        grid.add_column(translate(COLUMNS["derivative"], lang), no_wrap=True)
    references = [name for name in ("autograd", "symbolic", "numeric") if name not in dropped]
    for name in (*references, "error"):
        grid.add_column(translate(COLUMNS[name], lang), justify="right", no_wrap=True)
    grid.add_column(translate(COLUMNS["status"], lang), no_wrap=True)
    for row in report.rows:
        cells_point = [fmt_value(v, digits) for _, v in row.at] + [fmt_value(row.value, digits)]
        for k, d in enumerate(row.derivatives):
            lead = cells_point if k == 0 else [""] * len(cells_point)
            middle = [key_label(d.key, h.variables)] if several else []
            values = {"autograd": d.autograd, "symbolic": d.symbolic, "numeric": d.numeric}
            grid.add_row(
                *lead,
                *middle,
                *(_cell(name, values[name], digits) for name in references),
                fmt_error(d.error),
                status_text(d.status, lang),
            )
    if report.hidden_rows:
        grid.caption = _hidden_caption(report, lang)
    return grid


def _hidden_caption(report: EvalReport, lang: str) -> str:
    return translate(
        "{count} more rows not shown (the first non-ok rows, the worst errors and both ends "
        "are shown); --all prints every row",
        lang,
        count=f"{report.hidden_rows:,}",
    )


def _vertical(report: EvalReport, lang: str) -> Table:
    """Each point as a block of ``name value`` lines, for terminals too narrow for columns."""
    h = report.header
    digits = TABLE_DIGITS
    several = len(h.keys) > 1
    blocks = Table(show_header=False, box=None, pad_edge=False, show_edge=False)
    blocks.add_column(no_wrap=True)
    blocks.add_column(no_wrap=True)
    for i, row in enumerate(report.rows):
        if i:
            blocks.add_row("", "")
        for name, value in row.at:
            blocks.add_row(Text(name, style="bold"), fmt_value(value, digits))
        blocks.add_row(Text("f", style="bold"), fmt_value(row.value, digits))
        for d in row.derivatives:
            indent = "  " if several else ""
            if several:
                blocks.add_row(Text(key_label(d.key, h.variables), style="bold"), "")
            columns: tuple[tuple[str, float | None], ...] = (
                ("autograd", d.autograd),
                ("symbolic", d.symbolic),
                ("numeric", d.numeric),
            )
            for name, number in columns:
                label = translate(COLUMNS[name], lang)
                blocks.add_row(f"{indent}{label}", _cell(name, number, digits))
            blocks.add_row(f"{indent}{translate(COLUMNS['error'], lang)}", fmt_error(d.error))
            blocks.add_row(
                f"{indent}{translate(COLUMNS['status'], lang)}", status_text(d.status, lang)
            )
    if report.hidden_rows:
        blocks.caption = _hidden_caption(report, lang)
    blocks.caption_justify = "left"
    return blocks


def _cell(column: str, value: float | None, digits: int) -> str:
    """A reference value; no numeric value (where there is no derivative) shows as a dash."""
    if value is None and column == "numeric":
        return "—"
    return fmt_value(value, digits)


def notes_table(report: EvalReport, lang: str = "en", width: int | None = None) -> Table | None:
    """Why each non-ok row got its status (Chinese notes wrapped to ``width`` by cells)."""
    rows = [r for r in report.rows if r.note is not None]
    if not rows:
        return None
    notes = Table(
        show_header=False,
        box=None,
        pad_edge=False,
        title=translate("notes", lang),
        title_justify="left",
    )
    notes.add_column(no_wrap=True)
    notes.add_column(no_wrap=True)
    notes.add_column(overflow="fold")
    said = [row.note.in_lang(lang) if row.note is not None else "" for row in rows]
    where = [_where(row) for row in rows]
    statuses = [status_text(row.status, lang) for row in rows]
    if width is not None and any(cell_len(text) != len(text) for text in said):
        # rich wraps at spaces only: a Chinese sentence has few, so it is broken here, by cells
        room = width - max(map(cell_len, where)) - max(s.cell_len for s in statuses) - 4
        if room >= 8:
            said = ["\n".join(wrap_cells(text, room)) for text in said]
    for row in zip(where, statuses, said, strict=True):
        notes.add_row(*row)
    return notes


def _where(row: PointResult) -> str:
    return ", ".join(f"{name} = {fmt_value(value, TABLE_DIGITS)}" for name, value in row.at)


def summary_line(report: EvalReport, lang: str = "en", width: int | None = None) -> Text:
    """``13 points: 13 ok, ...; worst error 2.2e-16 at x = 1``.

    Chinese has no spaces to wrap at: with ``width`` its line breaks between the counts.
    """
    s = report.summary
    count = f"{s.points:,}"
    if s.points == 1:
        parts = [(translate("{count} point: ", lang, count=count), "")]
    else:
        parts = [(translate("{count} points: ", lang, count=count), "")]
    counts = [
        (s.ok, Status.OK),
        (s.nondifferentiable, Status.NONDIFFERENTIABLE),
        (s.domain, Status.DOMAIN),
        # only when it happens: most runs check every point
        *([(s.inconclusive, Status.INCONCLUSIVE)] if s.inconclusive else []),
        (s.mismatch, Status.MISMATCH),
    ]
    for i, (number, status) in enumerate(counts):
        word = translate(STATUS_WORDS[status], lang)
        if lang != "en":  # the English id once, for searching the docs and the JSON
            word = f"{word} ({status.value})"
        said = translate("{count} {status}", lang, count=f"{number:,}", status=word)
        if i < len(counts) - 1:
            said += translate(", ", lang)
        parts.append((said, STATUS_STYLE[status] if number else "dim"))
    if s.worst_error == 0:
        parts.append((translate("; worst error 0", lang), ""))
    elif s.worst_error is not None and s.worst_at is not None:
        where = ", ".join(f"{n} = {fmt_value(v, TABLE_DIGITS)}" for n, v in s.worst_at)
        label = key_label(s.worst_key, report.header.variables) if s.worst_key else ""
        worst = translate(
            "; worst error {error} at {point}", lang, error=fmt_error(s.worst_error), point=where
        )
        if len(report.header.keys) > 1 and label:
            worst += translate(" ({derivative})", lang, derivative=label)
        parts.append((worst, ""))
    return _packed(parts, width if lang != "en" else None)


def _packed(parts: list[tuple[str, str]], width: int | None) -> Text:
    """The parts in one Text; with ``width``, a new line wherever the next part would not fit."""
    text = Text()
    column = 0
    for said, style in parts:
        size = cell_len(said)
        if width is not None and column and column + size > width:
            said = said.lstrip()
            if said[:1] in NO_LINE_START and column + 2 <= width:
                text.append(said[0], style=style)  # "；" ends a line, never starts one
                said = said[1:]
            text.append("\n")
            column = 0
        text.append(said, style=style)
        column += cell_len(said)
    return text


def fit_lines(text: str, width: int) -> str:
    """``text`` with its lines broken to ``width`` cells where it has wide characters (rich
    breaks lines at spaces, which Chinese hardly has); other text as it is."""
    if cell_len(text) == len(text):
        return text
    return "\n".join(wrapped for line in text.split("\n") for wrapped in wrap_cells(line, width))


def wrap_cells(line: str, width: int, *, indent: str = "") -> list[str]:
    """``line`` wrapped to ``width`` terminal cells, later lines indented.

    Text of narrow characters is wrapped by ``textwrap`` at spaces (and hyphens); text with
    double-width characters (Chinese) by cells: at spaces where it can, between the wide
    characters where it must, never inside a run of narrow ones (a number) that fits a line.
    """
    import textwrap

    from rich.cells import cell_len

    if cell_len(line) == len(line):
        return textwrap.wrap(line, width=width, subsequent_indent=indent)
    # Break points: after a space, and on either side of a wide character.
    pieces: list[str] = []
    for char in line:
        wide = cell_len(char) > 1
        if pieces and char in NO_LINE_START:
            if not pieces[-1].strip() and len(pieces) > 1:  # "数 ，": the comma stays with 数
                space = pieces.pop()
                pieces[-1] += space
            pieces[-1] += char
        elif not pieces or wide or pieces[-1].endswith(" ") or cell_len(pieces[-1][-1]) > 1:
            pieces.append(char)
        else:
            pieces[-1] += char
    lines: list[str] = []
    current = ""
    for piece in pieces:
        limit = width - (cell_len(indent) if lines else 0)
        if current and cell_len(current + piece.rstrip()) > limit:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
    if current.strip():
        lines.append(current.rstrip())
    return [line if i == 0 else indent + line for i, line in enumerate(lines)]
