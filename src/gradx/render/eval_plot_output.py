"""Wires ``gradx eval --plot/--save``: samples the range once, then draws each picture asked for."""

from __future__ import annotations

from pathlib import Path

from gradx.commands.eval.pipeline import EvalRequest, PreparedEvaluation
from gradx.commands.eval.plot_data import LinePlot, collect_plot


def emit_plots(
    request: EvalRequest,
    prepared: PreparedEvaluation,
    *,
    terminal: bool,
    save: Path | None,
    overlay: bool = False,
) -> None:
    """Evaluate at plot resolution once, then print the terminal plot and/or save the file."""
    from gradx.render.console import stderr_console, stdout_console

    plot = collect_plot(request, prepared, overlay=overlay)
    if terminal and isinstance(plot, LinePlot):
        from gradx.render.eval_plot_terminal import print_line_plot

        print_line_plot(plot, stdout_console())
    if save is not None:
        from gradx.render.eval_plot_file import save_plot

        save_plot(plot, save)
        stderr_console().print(f"wrote {save} ({plot.points} points)", highlight=False)
