"""``gradx eval --plot``: f and its derivatives drawn on the terminal with plotext.

One panel per curve family (f, f', f''...), stacked on a shared x axis, as wide as the terminal.
Without colours (a pipe, ``NO_COLOR``) the curves stay apart by their markers. Draws only what
``gradx.commands.eval.plot_data`` computed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from gradx.commands.eval.model import Curve, LinePlot, Panel
from gradx.render.numbers import fmt_value

if TYPE_CHECKING:
    from rich.console import Console

PANEL_HEIGHT = 15  # rows per panel, title and x ticks included
MIN_WIDTH = 40
MARK_SYMBOLS = {"kink": "◆", "mismatch": "✖", "inconclusive": "?", "no derivative": "▲"}
REFERENCE_SYMBOLS = {"symbolic": "s", "numeric": "n"}
# Extra derivatives of one order (several variables) when colours cannot tell them apart.
PLAIN_LINE_MARKERS = ("braille", "•", "+", "∘", "×")
GAP_SYMBOL = "░"


def print_line_plot(plot: LinePlot, console: Console) -> None:
    """Print the plot at the console's width, in colour when the console has colours."""
    colorless = console.color_system is None or console.no_color
    text = render_line_plot(plot, width=console.width, colorless=colorless)
    console.file.write(text + "\n")
    console.file.flush()


def render_line_plot(plot: LinePlot, *, width: int, colorless: bool) -> str:
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
        _draw_panel(sub, panel, plot, width=width, colorless=colorless)
        if number == rows:
            sub.label(_x_label(plot), axis="x")
    picture = fig.build().string(colorless=colorless)
    fig.clear()
    lines = [line.rstrip() for line in picture.splitlines()]
    return "\n".join([*lines, *_caption(plot, width)])


def _draw_panel(sub, panel: Panel, plot: LinePlot, *, width: int, colorless: bool) -> None:
    series = _series_count(panel, plot)
    title = panel.title
    if series == 1 and panel.curves and panel.curves[0].source == "autograd":
        title += "   (autograd)"
    sub.title(_fit(title, width))
    sub.ruler("x").lim(plot.start, plot.stop)
    sub.ruler("x").ticks(*_ticks(plot.start, plot.stop))
    if panel.ylim is None:
        sub.text((plot.start + plot.stop) / 2, 0, "no finite values to draw", alignment="center")
        return
    lo, hi = panel.ylim
    if series > 1:
        hi = _place_legend(sub, panel, plot, width, lo, hi)
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
            _draw_line(sub, curve, marker, lo, hi, breaks, labelled=series > 1)
        else:
            _draw_points(
                sub, curve.x, curve.y, REFERENCE_SYMBOLS[curve.source], curve.label, lo, hi
            )
    if panel is plot.panels[0]:
        for gap in plot.domain_gaps:
            _draw_gap(sub, gap, plot, lo, hi)
    for marks in panel.marks:
        _draw_points(sub, marks.x, marks.y, MARK_SYMBOLS[marks.kind], marks.kind, lo, hi)


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
            signal.label(curve.label)
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


def _draw_gap(sub, gap: tuple[float, float], plot: LinePlot, lo: float, hi: float) -> None:
    """Shade an x interval where f has no value, along the bottom of the panel."""
    start, stop = gap
    band = (hi - lo) * 0.06
    signal = sub.rectangle(x=(start, stop), y=(lo, lo + band), marker=GAP_SYMBOL, lines=True)
    sub.draw(signal)
    if plot.domain_gaps[0] == gap:
        label = sub.signal([start], [lo], marker=GAP_SYMBOL)
        label.label("no value (domain)")
        sub.draw(label)


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


def _place_legend(sub, panel: Panel, plot: LinePlot, width: int, lo: float, hi: float) -> float:
    """Put the legend in a corner the curves leave free; else make room above them.

    Returns the upper y limit to use (raised when room had to be made).
    """
    labels = [c.label for c in panel.curves] + [m.kind for m in panel.marks]
    if plot.domain_gaps and panel is plot.panels[0]:
        labels.append("no value (domain)")
    canvas_cols = max(width - 8, 10)
    canvas_rows = PANEL_HEIGHT - 4
    frac_x = min((max(len(t) for t in labels) + 6) / canvas_cols, 1.0)
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


def _caption(plot: LinePlot, width: int) -> list[str]:
    """What the picture cannot say: how many points, the gaps and the special points."""
    import textwrap

    lines = [
        f"{plot.points} points from {plot.variable} = {fmt_value(plot.start, 6)} "
        f"to {fmt_value(plot.stop, 6)}."
    ]
    for start, stop in plot.domain_gaps:
        where = (
            f"at {plot.variable} = {fmt_value(start, 6)}"
            if start == stop
            else f"for {fmt_value(start, 6)} ≤ {plot.variable} ≤ {fmt_value(stop, 6)}"
        )
        lines.append(f"{GAP_SYMBOL} no value {where} (outside the domain)")
    lines.extend(plot.notes)
    if plot.hidden_notes:
        lines.append(f"... and {plot.hidden_notes} more special points (see the table or --json)")
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(textwrap.wrap(line, width=width, subsequent_indent="  "))
    return wrapped


def _fit(text: str, width: int) -> str:
    limit = max(10, width - 4)
    return text if len(text) <= limit else text[: limit - 1] + "…"
