"""Benchmark of ``gradx graph`` on a 20-layer MLP and of ``gradx eval --plot``, after imports.

Run it with the project's Python:  python bench/graph_bench.py [--repeat 5]

In one process, with torch, rich and plotext already imported, it times (median of --repeat):
  * tracing the MLP (forward under the cut watcher, walking grad_fn, backward);
  * folding it into the tree view and rendering the tree to text at 120 columns;
  * sampling sin(x) for the plot (409 points, f and f') and drawing the terminal plot.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

MLP = textwrap.dedent(
    """
    from torch import nn


    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Linear(4, 16), nn.ReLU()]
            for _ in range(18):
                layers += [nn.Linear(16, 16), nn.ReLU()]
            layers.append(nn.Linear(16, 1))
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            return self.net(x)
    """
)


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from rich.console import Console

    from gradx.commands.eval.pipeline import EvalRequest, PreparedEvaluation
    from gradx.commands.eval.plot_data import collect_plot
    from gradx.commands.graph.sources import script_graph
    from gradx.commands.graph.view import build_view
    from gradx.render.eval_plot_terminal import render_line_plot
    from gradx.render.graph_tree import view_group

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mlp.py"
        path.write_text(MLP, encoding="utf-8")
        target = f"{path}::MLP"
        graph = script_graph(target)  # warm-up: imports and the first torch calls

        def render() -> None:
            console = Console(file=io.StringIO(), width=120, color_system=None)
            console.print(view_group(graph, build_view(graph)))

        trace = median_ms(lambda: script_graph(target), args.repeat)
        draw = median_ms(render, args.repeat)

    request = EvalRequest.from_cli(expression="sin(x)", ranges=("-6.28:6.28",))
    prepared = PreparedEvaluation(request)
    collect_plot(request, prepared)  # warm-up
    sample = median_ms(lambda: collect_plot(request, prepared), args.repeat)
    plot = collect_plot(request, prepared)
    terminal = median_ms(lambda: render_line_plot(plot, width=120, colorless=True), args.repeat)

    print(f"20-layer MLP: {len(graph.nodes)} nodes, {len(graph.leaves)} leaves")
    print(f"  trace (forward, walk, backward): {trace:8.1f} ms")
    print(f"  fold + render tree:              {draw:8.1f} ms")
    print(f"sin(x) plot: {plot.points} points")
    print(f"  sample (f, f' + references):     {sample:8.1f} ms")
    print(f"  draw terminal plot:              {terminal:8.1f} ms")


if __name__ == "__main__":
    main()
