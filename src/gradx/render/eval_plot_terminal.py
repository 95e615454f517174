"""``gradx eval --plot``: f and its derivatives drawn on the terminal with plotext.

One panel per curve family (f, f', f''...), stacked on a shared x axis, as wide as the terminal.
Without colours (a pipe, ``NO_COLOR``) the curves stay apart by their markers. Draws only what
``gradx.commands.eval.plot_data`` computed. Titles, legends and the caption are said in ``lang``;
widths are counted in terminal cells (a Chinese character takes two).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from gradx.commands.eval.model import Curve, LinePlot, Panel, PlotNote
from gradx.render.eval_table import STATUS_WORDS, wrap_cells
from gradx.render.numbers import fmt_value
from gradx.translations import N_, translate

if TYPE_CHECKING:
    from rich.console import Console

PANEL_HEIGHT = 15  # rows per panel, title and x ticks included
MIN_WIDTH = 40
MARK_SYMBOLS = {"kink": "◆", "mismatch": "✖", "inconclusive": "?", "no derivative": "▲"}
REFERENCE_SYMBOLS = {"symbolic": "s", "numeric": "n"}
# Extra derivatives of one order (several variables) when colours cannot tell them apart.
PLAIN_LINE_MARKERS = ("braille", "•", "+", "∘", "×")
GAP_SYMBOL = "░"
# What the legend calls each kind of mark and each source of a curve.
MARK_LABELS = {
    "kink": N_("kink"),
    "mismatch": N_("mismatch"),
    "inconclusive": N_("inconclusive"),
    "no derivative": N_("no derivative"),
}
SOURCE_LABELS = {
    "autograd": N_("autograd"),
    "symbolic": N_("symbolic"),
    "numeric": N_("numeric"),
}
GAP_LABEL = N_("no value (domain)")


def curve_label(curve: Curve, lang: str) -> str:
    """``f``, ``f' autograd``, ``∂f/∂x symbolic``: the curve and where its values come from."""
    if curve.source == "value":
        return curve.label
    return f"{curve.label} {translate(SOURCE_LABELS[curve.source], lang)}"


def print_line_plot(plot: LinePlot, console: Console, lang: str = "en") -> None:
    """Print the plot at the console's width, in colour when the console has colours."""
    colorless = console.color_system is None or console.no_color
    text = render_line_plot(plot, width=console.width, colorless=colorless, lang=lang)
    console.file.write(text + "\n")
    console.file.flush()


def render_line_plot(plot: LinePlot, *, width: int, colorless: bool, lang: str = "en") -> str:
    """The whole picture as text: the stacked panels, then a line per special point."""
    import plotext

    width = max(width, MIN_WIDTH)
    fig = plotext.figure
    fig.clear()
    plotext.terminal.limit(False, False)  # our size, not the real terminal's
    rows = len(plot.panels)
    fig.plot_size(width, PANEL_HEIGHT * rows + 1)
    if rows > 1:
        fig.subplots(rows, 1)
    fig.theme("simple")  # coloured curves on the terminal's own background
    for number, panel in enumerate(plot.panels, start=1):
        # plotext has no 1x1 grid of subplots: a single panel (--overlay) is the figure
        sub = fig.subplot(number, 1) if rows > 1 else fig
        _draw_panel(sub, panel, plot, width=width, colorless=colorless, lang=lang)
        if number == rows:
            sub.label(_x_label(plot), axis="x")
    picture = fig.build().string(colorless=colorless)
    fig.clear()
    lines = [line.rstrip() for line in picture.splitlines()]
    return "\n".join([*lines, *_caption(plot, width, lang)])


def _draw_panel(
    sub, panel: Panel, plot: LinePlot, *, width: int, colorless: bool, lang: str
) -> None:
    series = _series_count(panel, plot)
    title = panel.title
    if series == 1 and panel.curves and panel.curves[0].source == "autograd":
        title += translate("   (autograd)", lang)
    sub.title(_fit(title, width))
    sub.ruler("x").lim(plot.start, plot.stop)
    sub.ruler("x").ticks(*_ticks(plot.start, plot.stop))
    if panel.ylim is None:
        empty = translate("no finite values to draw", lang)
        sub.text((plot.start + plot.stop) / 2, 0, empty, alignment="center")
        return
    lo, hi = panel.ylim
    if series > 1:
        hi = _place_legend(sub, panel, plot, width, lo, hi, lang)
    sub.ruler("y").lim(lo, hi)
    special = {x for marks in panel.marks for x in marks.x}
    line_index = 0
    for curve in panel.curves:
        if curve.style == "line":
            marker = "braille"
            if colorless:
                marker = PLAIN_LINE_MARKERS[line_index % len(PLAIN_LINE_MARKERS)]
            line_index += 1
            # A derivative jumps at a kink (or autograd's value there is an outlier): the line
            # stops at the marked point rather than join it to both sides.
            breaks = special if curve.source == "autograd" else set()
            label = curve_label(curve, lang)
            _draw_line(sub, curve, label, marker, lo, hi, breaks, labelled=series > 1)
        else:
            symbol = REFERENCE_SYMBOLS[curve.source]
            _draw_points(sub, curve.x, curve.y, symbol, curve_label(curve, lang), lo, hi)
    if panel is plot.panels[0]:
        for gap in plot.domain_gaps:
            _draw_gap(sub, gap, plot, lo, hi, translate(GAP_LABEL, lang))
    for marks in panel.marks:
        label = translate(MARK_LABELS[marks.kind], lang)
        _draw_points(sub, marks.x, marks.y, MARK_SYMBOLS[marks.kind], label, lo, hi)


def _series_count(panel: Panel, plot: LinePlot) -> int:
    gaps = 1 if plot.domain_gaps and panel is plot.panels[0] else 0
    return len(panel.curves) + len(panel.marks) + gaps


def _ticks(start: float, stop: float, count: int = 7) -> tuple[list[float], list[str]]:
    """Evenly spaced x ticks with short labels (no ``-0.0``)."""
    positions = [start + (stop - start) * i / (count - 1) for i in range(count)]
    tiny = 1e-12 * (stop - start)
    labels = [fmt_value(0.0 if abs(p) < tiny else p, 3) for p in positions]
    return positions, labels


def _draw_line(
    sub,
    curve: Curve,
    label: str,
    marker: str,
    lo: float,
    hi: float,
    breaks: set[float],
    *,
    labelled: bool,
) -> None:
    """A line broken wherever the curve has no value, leaves the visible band or jumps."""
    for xs, ys in _segments(curve.x, curve.y, lo, hi, breaks):
        signal = sub.signal(xs, ys, marker=marker)
        if len(xs) > 1:
            signal.lines()
        if labelled:
            signal.label(label)
            labelled = False
        sub.draw(signal)


def _draw_points(
    sub, xs: Sequence[float], ys: Sequence[float], symbol: str, label: str, lo: float, hi: float
) -> None:
    keep = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y) and lo <= y <= hi]
    if not keep:
        return
    signal = sub.signal([p[0] for p in keep], [p[1] for p in keep], marker=symbol)
    signal.label(label)
    sub.draw(signal)


def _draw_gap(
    sub, gap: tuple[float, float], plot: LinePlot, lo: float, hi: float, label: str
) -> None:
    """Shade an x interval where f has no value, along the bottom of the panel."""
    start, stop = gap
    band = (hi - lo) * 0.06
    signal = sub.rectangle(x=(start, stop), y=(lo, lo + band), marker=GAP_SYMBOL, lines=True)
    sub.draw(signal)
    if plot.domain_gaps[0] == gap:
        legend = sub.signal([start], [lo], marker=GAP_SYMBOL)
        legend.label(label)
        sub.draw(legend)


def _segments(
    xs: Sequence[float], ys: Sequence[float], lo: float, hi: float, breaks: set[float]
) -> Iterator[tuple[list[float], list[float]]]:
    run_x: list[float] = []
    run_y: list[float] = []
    for x, y in zip(xs, ys, strict=True):
        if math.isfinite(y) and lo <= y <= hi and x not in breaks:
            run_x.append(x)
            run_y.append(y)
        elif run_x:
            yield run_x, run_y
            run_x, run_y = [], []
    if run_x:
        yield run_x, run_y


def _place_legend(
    sub, panel: Panel, plot: LinePlot, width: int, lo: float, hi: float, lang: str
) -> float:
    """Put the legend in a corner the curves leave free; else make room above them.

    Returns the upper y limit to use (raised when room had to be made).
    """
    from rich.cells import cell_len

    labels = [curve_label(c, lang) for c in panel.curves]
    labels += [translate(MARK_LABELS[m.kind], lang) for m in panel.marks]
    if plot.domain_gaps and panel is plot.panels[0]:
        labels.append(translate(GAP_LABEL, lang))
    canvas_cols = max(width - 8, 10)
    canvas_rows = PANEL_HEIGHT - 4
    frac_x = min((max(cell_len(t) for t in labels) + 6) / canvas_cols, 1.0)
    frac_y = min((2 * len(labels) + 3) / canvas_rows, 0.9)
    span_x, span_y = plot.stop - plot.start, hi - lo
    series_xy = [(c.x, c.y) for c in panel.curves] + [(m.x, m.y) for m in panel.marks]
    points = [
        (x, y) for xs, ys in series_xy for x, y in zip(xs, ys, strict=True) if math.isfinite(y)
    ]
    if plot.domain_gaps and panel is plot.panels[0]:
        points.extend((x, lo) for gap in plot.domain_gaps for x in gap)
    for ha, va in (("right", "top"), ("left", "top"), ("right", "bottom"), ("left", "bottom")):
        x0 = plot.start if ha == "left" else plot.stop - frac_x * span_x
        y0 = hi - frac_y * span_y if va == "top" else lo
        crowded = any(
            x0 <= x <= x0 + frac_x * span_x and y0 <= y <= y0 + frac_y * span_y for x, y in points
        )
        if not crowded:
            sub.legend(
                x=plot.stop if ha == "right" else plot.start,
                y=hi if va == "top" else lo,
                ha=ha,
                va=va,
                relative=True,
            )
            return hi
    # No free corner: make some room above the curves, but never squash them (at most 1/3).
    raised = hi + span_y * min(frac_y / (1 - frac_y), 0.5)
    sub.legend(x=plot.stop, y=raised, ha="right", va="top", relative=True)
    return raised


def _x_label(plot: LinePlot) -> str:
    fixed = ", ".join(f"{name} = {fmt_value(value, 6)}" for name, value in plot.fixed)
    return plot.variable + (f"   ({fixed})" if fixed else "")


def _caption(plot: LinePlot, width: int, lang: str) -> list[str]:
    """What the picture cannot say: how many points, the gaps and the special points."""
    lines = [
        translate(
            "{count} points from {variable} = {start} to {stop}.",
            lang,
            count=plot.points,
            variable=plot.variable,
            start=fmt_value(plot.start, 6),
            stop=fmt_value(plot.stop, 6),
        )
    ]
    for start, stop in plot.domain_gaps:
        if start == stop:
            said = translate(
                "{symbol} no value at {variable} = {x} (outside the domain)",
                lang,
                symbol=GAP_SYMBOL,
                variable=plot.variable,
                x=fmt_value(start, 6),
            )
        else:
            said = translate(
                "{symbol} no value for {start} ≤ {variable} ≤ {stop} (outside the domain)",
                lang,
                symbol=GAP_SYMBOL,
                start=fmt_value(start, 6),
                variable=plot.variable,
                stop=fmt_value(stop, 6),
            )
        lines.append(said)
    lines.extend(_note_line(note, lang) for note in plot.notes)
    if plot.hidden_notes:
        lines.append(
            translate(
                "... and {count} more special points (see the table or --json)",
                lang,
                count=plot.hidden_notes,
            )
        )
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(wrap_cells(line, width, indent="  "))
    return wrapped


def _note_line(note: PlotNote, lang: str) -> str:
    """``x = 0: nondifferentiable — kink: ...``."""
    at = ", ".join(f"{name} = {fmt_value(value, 6)}" for name, value in note.at)
    status = translate(STATUS_WORDS[note.status], lang)
    if note.note is None:
        return translate("{point}: {status}", lang, point=at, status=status)
    return translate(
        "{point}: {status} — {note}", lang, point=at, status=status, note=note.note.in_lang(lang)
    )


def _fit(text: str, width: int) -> str:
    from rich.cells import cell_len, set_cell_size

    limit = max(10, width - 4)
    if cell_len(text) <= limit:
        return text
    return set_cell_size(text, limit - 1) + "…"
