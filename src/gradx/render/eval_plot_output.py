"""Draws ``gradx eval --plot/--save``: the terminal plot and/or the file, from one sampled Plot."""

from __future__ import annotations

from pathlib import Path

from gradx.commands.eval.model import LinePlot, Plot


def emit_plots(plot: Plot, *, terminal: bool, save: Path | None) -> None:
    """Print the terminal plot and/or save the file (``collect_plot`` sampled ``plot``)."""
    from gradx.render.console import stderr_console, stdout_console

    if terminal and isinstance(plot, LinePlot):
        from gradx.render.eval_plot_terminal import print_line_plot

        print_line_plot(plot, stdout_console())
    if save is not None:
        from gradx.render.eval_plot_file import save_plot

        save_plot(plot, save)
        stderr_console().print(f"wrote {save} ({plot.points} points)", highlight=False)
