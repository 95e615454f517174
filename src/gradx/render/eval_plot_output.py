"""Draws ``gradx eval --plot/--save``: the terminal plot and/or the file, from one sampled Plot."""

from __future__ import annotations

from pathlib import Path

from gradx.commands.eval.model import LinePlot, Plot
from gradx.translations import translate


def emit_plots(plot: Plot, *, terminal: bool, save: Path | None, lang: str = "en") -> None:
    """Print the terminal plot and/or save the file (``collect_plot`` sampled ``plot``), with
    their words in ``lang``."""
    from gradx.render.console import stderr_console, stdout_console

    if terminal and isinstance(plot, LinePlot):
        from gradx.render.eval_plot_terminal import print_line_plot

        print_line_plot(plot, stdout_console(), lang)
    if save is not None:
        from gradx.render.eval_plot_file import font_notice, save_plot

        save_plot(plot, save, lang)
        notice = font_notice(lang)
        if notice is not None:
            stderr_console().print(notice, highlight=False, markup=False)
        said = translate("wrote {path} ({count} points)", lang, path=save, count=plot.points)
        stderr_console().print(said, highlight=False, markup=False)
