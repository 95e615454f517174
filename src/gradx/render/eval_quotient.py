"""``gradx eval --quotient``: the difference-quotient table, its JSON, and the log–log error plot
(terminal with plotext, file with matplotlib). Draws only what ``commands.eval.quotient``
computed. Words in ``lang``; the JSON stays English (a machine format)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gradx.commands.eval.model import QuotientReport
from gradx.render.eval_table import fit_lines
from gradx.render.numbers import fmt_error, fmt_value, json_number
from gradx.translations import N_, translate

BEST = "◀"
QUOTIENT_NAMES = {"forward": N_("forward"), "central": N_("central")}


def emit_quotients(
    report: QuotientReport, *, json_out: bool, plot: bool, save: Path | None, lang: str = "en"
) -> None:
    """Print the table (or the JSON document), then draw the plots asked for (words in
    ``lang``; the JSON is English)."""
    from gradx.render.console import stdout_console

    console = stdout_console()
    if json_out:
        console.file.write(json.dumps(quotient_json(report), allow_nan=False) + "\n")
    else:
        render_quotients(report, console, lang)
    if plot:
        picture = render_quotient_plot(report, width=console.width, lang=lang)
        console.file.write(picture + "\n")
    if save is not None:
        from gradx.render.console import stderr_console
        from gradx.render.eval_plot_file import font_notice

        save_quotient_plot(report, save, lang)
        notice = font_notice(lang)
        if notice is not None:
            stderr_console().print(notice, highlight=False, markup=False)
    console.file.flush()


def render_quotients(report: QuotientReport, console: Any, lang: str = "en") -> None:
    """The table: h, the forward and central quotients and their errors, the best rows marked."""
    from rich.table import Table
    from rich.text import Text

    point = ", ".join(f"{v} = {fmt_value(x)}" for v, x in report.at)
    derivative = f"∂f/∂{report.variable}" if len(report.at) > 1 else "f'"
    console.print(
        translate(
            "f = {expression} at {point} ({dtype})",
            lang,
            expression=report.expression,
            point=point,
            dtype=report.dtype,
        )
    )
    console.print(
        translate(
            "f = {value}, autograd {derivative} = {autograd}",
            lang,
            value=fmt_value(report.value),
            derivative=derivative,
            autograd=fmt_value(report.autograd, 17),
        )
    )
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("h", justify="right")
    error = translate("error", lang)
    for name in ("forward", "error", "", "central", "error", ""):
        if name in QUOTIENT_NAMES:
            heading = translate(QUOTIENT_NAMES[name], lang)
        else:
            heading = error if name else ""
        table.add_column(heading, justify="right" if name else "left")
    for i, row in enumerate(report.rows):
        cells: list[str | Text] = [f"1e-{i + 1:02d}"]
        for quotient, error_value, best in (
            (row.forward, row.forward_error, report.best_forward),
            (row.central, row.central_error, report.best_central),
        ):
            cells.append(fmt_value(quotient, 17))
            cells.append(Text(fmt_error(error_value), style="bold" if i == best else ""))
            cells.append(BEST if i == best else "")
        table.add_row(*cells)
    console.print(table)
    console.print(translate("forward = (f(x+h) - f(x))/h, central = (f(x+h) - f(x-h))/(2h)", lang))
    for line in _explanation(report, lang):
        console.print(fit_lines(line, console.width))


def _explanation(report: QuotientReport, lang: str = "en") -> list[str]:
    forward_h = report.rows[report.best_forward].h
    central_h = report.rows[report.best_central].h
    lines = [
        translate(
            "{best} smallest error: forward at h = {forward_h}, central at h = {central_h}. "
            "Above it the truncation error dominates (it shrinks like h for the forward "
            "quotient, like h² for the central one); below it the rounding error of "
            "f(x+h) - f(x), about eps·|f|/h with eps = {eps}, takes over and grows as h shrinks.",
            lang,
            best=BEST,
            forward_h=f"{forward_h:.0e}",
            central_h=f"{central_h:.0e}",
            eps=f"{report.epsilon:.1e}",
        ),
    ]
    theory = []
    if report.theory_forward is not None:
        h = f"{report.theory_forward:.1e}"
        theory.append(translate("h ≈ {h} (forward, from f'')", lang, h=h))
    if report.theory_central is not None:
        h = f"{report.theory_central:.1e}"
        theory.append(translate("h ≈ {h} (central, from f''')", lang, h=h))
    if theory:
        steps = translate(", ", lang).join(theory)
        lines.append(
            translate("Where truncation and rounding estimates cross: {steps}.", lang, steps=steps)
        )
    lines.append(
        translate(
            "gradx's own finite differences do better than any single step: Richardson "
            "extrapolation over several steps, scaled to max(|x|, 1).",
            lang,
        )
    )
    return lines


def quotient_json(report: QuotientReport) -> dict[str, Any]:
    """The JSON document of ``--quotient --json`` (non-finite numbers as null)."""
    return {
        "schema": 1,
        "expression": report.expression,
        "variable": report.variable,
        "at": dict(report.at),
        "dtype": report.dtype,
        "epsilon": report.epsilon,
        "value": json_number(report.value),
        "autograd": json_number(report.autograd),
        "rows": [
            {
                "h": row.h,
                "forward": json_number(row.forward),
                "forward_error": json_number(row.forward_error),
                "central": json_number(row.central),
                "central_error": json_number(row.central_error),
            }
            for row in report.rows
        ],
        "best_forward_h": report.rows[report.best_forward].h,
        "best_central_h": report.rows[report.best_central].h,
        "theory_forward_h": report.theory_forward,
        "theory_central_h": report.theory_central,
    }


def _series(report: QuotientReport, which: str) -> tuple[list[float], list[float]]:
    hs, errors = [], []
    for row in report.rows:
        error = row.forward_error if which == "forward" else row.central_error
        if math.isfinite(error) and error > 0:
            hs.append(row.h)
            errors.append(error)
    return hs, errors


def render_quotient_plot(report: QuotientReport, *, width: int, lang: str = "en") -> str:
    """The log–log error curves on the terminal, forward above central; both axes in decades
    (exact zeros, which a log axis cannot show, are left out)."""
    import plotext

    fig = plotext.figure
    fig.clear()
    plotext.terminal.limit(False, False)  # our size, not the real terminal's
    fig.plot_size(max(width, 40), 2 * 13 + 1)
    fig.subplots(2, 1)
    for number, which in enumerate(("forward", "central"), start=1):
        sub = fig.subplot(number, 1)
        hs, errors = _series(report, which)
        if which == "forward":
            sub.title(translate("log-log: |forward quotient - autograd| against h", lang))
        else:
            sub.title(translate("log-log: |central quotient - autograd| against h", lang))
        if not hs:
            continue
        xs = [math.log10(h) for h in hs]
        ys = [math.log10(e) for e in errors]
        signal = sub.signal(xs, ys, marker="•")
        if len(xs) > 1:
            signal.lines()
        sub.draw(signal)
        sub.ruler("x").lim(-16.5, -0.5)
        sub.ruler("x").ticks(
            [-16, -13, -10, -7, -4, -1], [f"1e{k}" for k in (-16, -13, -10, -7, -4, -1)]
        )
        lo, hi = math.floor(min(ys)), math.ceil(max(ys))
        decades = list(range(lo, hi + 1, max(1, (hi - lo) // 4)))
        sub.ruler("y").ticks(decades, [f"1e{k}" for k in decades])
    picture = fig.build().string(colorless=True)
    fig.clear()
    return "\n".join(line.rstrip() for line in picture.splitlines())


def save_quotient_plot(report: QuotientReport, path: Path, lang: str = "en") -> None:
    """The log–log error curves as PNG, SVG or PDF (the format follows the suffix); labels in
    ``lang`` where a font allows (see ``eval_plot_file.picture_lang``)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from gradx.atomic_file import atomic_write
    from gradx.render.eval_plot_file import DPI, FORMATS, font_settings, picture_lang

    lang = picture_lang(lang)
    labels = {
        "forward": translate("forward quotient", lang),
        "central": translate("central quotient", lang),
    }
    with matplotlib.rc_context(font_settings(lang)):
        figure, axes = plt.subplots(figsize=(7.0, 4.5))
        try:
            for which, style in (("forward", "o-"), ("central", "s-")):
                hs, errors = _series(report, which)
                if hs:
                    axes.loglog(hs, errors, style, label=labels[which], fillstyle="none")
            for index, which in (
                (report.best_forward, "forward"),
                (report.best_central, "central"),
            ):
                row = report.rows[index]
                error = row.forward_error if which == "forward" else row.central_error
                if error > 0:
                    axes.annotate(
                        translate("smallest", lang),
                        (row.h, error),
                        textcoords="offset points",
                        xytext=(6, -12),
                    )
            axes.set_xlabel("h")
            axes.set_ylabel(translate("|quotient - autograd|", lang))
            axes.set_title(
                translate(
                    "Difference quotients of {expression}", lang, expression=report.expression
                )
            )
            axes.invert_xaxis()
            axes.grid(True, which="major", alpha=0.3)
            axes.legend()
            with atomic_write(path, "wb") as handle:
                figure.savefig(handle, format=FORMATS[path.suffix.lower()], dpi=DPI)
        finally:
            plt.close(figure)
