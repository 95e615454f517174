"""``gradx eval --save FILE``: the plot as PNG, SVG or PDF through matplotlib (the ``plot`` extra).

matplotlib is imported here only, with the non-interactive Agg backend, and the file is written
atomically: a reader sees the old file or the finished picture, never half of one. Draws only
what ``gradx.commands.eval.plot_data`` computed.

Chinese labels need a font with Chinese glyphs: the first of ``gradx.cjk_fonts.CJK_FONTS``
that matplotlib knows is used; with none installed the picture keeps English labels
(``picture_lang``), and the CLI says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gradx.atomic_file import atomic_write
from gradx.cjk_fonts import cjk_font
from gradx.commands.eval.model import LinePlot, Panel, Plot, SurfacePlot
from gradx.render.eval_plot_terminal import GAP_LABEL, MARK_LABELS, curve_label
from gradx.render.numbers import fmt_value
from gradx.translations import translate

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
PANEL_SIZE = (8.0, 3.2)  # inches per stacked panel
DPI = 120
SOURCE_STYLE: dict[str, dict[str, Any]] = {
    "value": {"color": "black", "linewidth": 1.6},
    "autograd": {"linewidth": 1.6},
    "symbolic": {"marker": "s", "markersize": 5, "linestyle": "none", "fillstyle": "none"},
    "numeric": {"marker": "o", "markersize": 4, "linestyle": "none", "fillstyle": "none"},
}
MARK_STYLE = {
    "kink": {"marker": "D", "color": "tab:orange", "markersize": 6},
    "mismatch": {"marker": "X", "color": "tab:red", "markersize": 8},
    "inconclusive": {"marker": "o", "color": "tab:gray", "markersize": 6},
    "no derivative": {"marker": "^", "color": "tab:purple", "markersize": 6},
}


def picture_lang(lang: str) -> str:
    """The language a saved picture can be labelled in: ``lang``, or English when ``lang``
    needs glyphs no installed font has."""
    return lang if lang == "en" or cjk_font() is not None else "en"


def font_notice(lang: str) -> str | None:
    """What to tell the reader when the picture cannot be labelled in ``lang`` (None if it can)."""
    if picture_lang(lang) == lang:
        return None
    return translate(
        "no font with Chinese glyphs found: the picture's labels stay English "
        "(install one such as Noto Sans CJK SC)",
        lang,
    )


def font_settings(lang: str) -> dict[Any, Any]:
    """matplotlib settings that draw the Chinese glyphs of ``lang`` (none for English)."""
    font = cjk_font() if lang != "en" else None
    if font is None:
        return {}
    # Latin letters and math symbols from DejaVu, Chinese from the CJK font.
    return {"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False}


def save_plot(plot: Plot, path: Path, lang: str = "en") -> None:
    """Draw the plot (labels in ``lang`` where a font allows) and write it to ``path``; the
    format follows the suffix."""
    import matplotlib

    lang = picture_lang(lang)
    with matplotlib.rc_context(font_settings(lang)):
        figure = draw_figure(plot, lang)
        try:
            with atomic_write(path, "wb") as handle:
                figure.savefig(handle, format=FORMATS[path.suffix.lower()], dpi=DPI)
        finally:
            import matplotlib.pyplot as plt

            plt.close(figure)


def draw_figure(plot: Plot, lang: str = "en"):
    """A matplotlib Figure of the plot (not shown, not saved), its words in ``lang``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    if isinstance(plot, SurfacePlot):
        return _surface_figure(plt, plot, lang)
    rows = len(plot.panels)
    figure, axes = plt.subplots(
        rows,
        1,
        sharex=True,
        figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * rows),
        squeeze=False,
        layout="constrained",
    )
    for ax, panel in zip(axes[:, 0], plot.panels, strict=True):
        _draw_panel(ax, panel, plot, lang)
    axes[-1, 0].set_xlabel(_x_label(plot))
    figure.suptitle(
        translate(
            "gradx eval {expression}: f and its derivatives ({count} points)",
            lang,
            expression=repr(plot.expression),
            count=plot.points,
        )
    )
    return figure


def _draw_panel(ax, panel: Panel, plot: LinePlot, lang: str) -> None:
    ax.set_title(panel.title, fontsize=10)
    ax.set_ylabel(panel.ylabel)
    ax.set_xlim(plot.start, plot.stop)
    ax.grid(True, alpha=0.3)
    special = {x for marks in panel.marks for x in marks.x}
    for curve in panel.curves:
        ys = list(curve.y)
        if curve.source == "autograd":
            # A derivative jumps at a kink (or autograd's value there is an outlier): leave a
            # gap at the marked point rather than join it to both sides.
            ys = [math.nan if x in special else y for x, y in zip(curve.x, ys, strict=True)]
        ax.plot(curve.x, ys, label=curve_label(curve, lang), **SOURCE_STYLE[curve.source])
    if panel is plot.panels[0]:
        for number, (start, stop) in enumerate(plot.domain_gaps):
            ax.axvspan(
                start,
                stop,
                color="0.85",
                label=translate(GAP_LABEL, lang) if number == 0 else None,
            )
    for marks in panel.marks:
        label = translate(MARK_LABELS[marks.kind], lang)
        ax.plot(marks.x, marks.y, linestyle="none", label=label, **MARK_STYLE[marks.kind])
    if panel.ylim is not None:
        ax.set_ylim(*panel.ylim)
    ax.legend(loc="best", fontsize=8)


def _surface_figure(plt, plot: SurfacePlot, lang: str):
    figure, ax = plt.subplots(figsize=(7.5, 6.0), layout="constrained")
    values = [[v if math.isfinite(v) else math.nan for v in row] for row in plot.values]
    mesh = ax.pcolormesh(plot.xs, plot.ys, values, shading="auto", cmap="viridis")
    figure.colorbar(mesh, ax=ax, label="f")
    if _has_spread(values):
        lines = ax.contour(plot.xs, plot.ys, values, levels=10, colors="white", linewidths=0.6)
        ax.clabel(lines, fontsize=7)
    # Points without a gradient (outside the domain) get no arrow.
    arrows = [
        (x, y, u, v)
        for x, y, u, v in zip(plot.arrow_x, plot.arrow_y, plot.arrow_u, plot.arrow_v, strict=True)
        if math.isfinite(u) and math.isfinite(v)
    ]
    if arrows:
        x, y, u, v = zip(*arrows, strict=True)
        label = translate("gradient ∇f (autograd)", lang)
        ax.quiver(x, y, u, v, color="red", angles="xy", label=label)
    ax.set_xlabel(plot.x_name)
    ax.set_ylabel(plot.y_name)
    fixed = ", ".join(f"{n} = {fmt_value(v, 6)}" for n, v in plot.fixed)
    what = f"f = {plot.expression}" + (f"  ({fixed})" if fixed else "")
    ax.set_title(translate("{function}: heatmap, contours, ∇f", lang, function=what))
    ax.legend(loc="upper right", fontsize=8)
    return figure


def _has_spread(values: Sequence[Sequence[float]]) -> bool:
    finite = [v for row in values for v in row if math.isfinite(v)]
    return len(finite) > 1 and min(finite) < max(finite)


def _x_label(plot: LinePlot) -> str:
    fixed = ", ".join(f"{name} = {fmt_value(value, 6)}" for name, value in plot.fixed)
    return plot.variable + (f"   ({fixed})" if fixed else "")
