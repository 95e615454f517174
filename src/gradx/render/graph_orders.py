"""``gradx graph EXPR --order N``: each order's graph as a tree, then a table of how the graphs
grow (nodes, saved tensors and bytes, time); or one JSON document."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from gradx.commands.graph.model import GraphView, HigherOrderGraphs


def emit_orders(report: HigherOrderGraphs, views: Sequence[GraphView], *, json_out: bool) -> None:
    """Print each order's folded view and the growth table (or one JSON document)."""
    if json_out:
        document = {
            "schema": 1,
            "expression": report.title,
            "variable": report.variable,
            "orders": [
                {
                    "order": step.order,
                    "value": step.graph.output.values,
                    "nodes": step.nodes,
                    "saved_tensors": step.saved_tensors,
                    "saved_bytes": step.saved_bytes,
                    "seconds": step.seconds,
                    "graph": asdict(step.graph),
                }
                for step in report.steps
            ],
            "stopped": report.stopped,
            "notes": list(report.notes),
            "grad_outputs": report.grad_outputs,
            "printed": list(report.printed),
        }
        sys.stdout.write(json.dumps(document, default=str) + "\n")
    else:
        from rich.table import Table
        from rich.text import Text

        from gradx.render.console import stdout_console
        from gradx.render.graph_tree import graph_tree

        console = stdout_console()
        if report.printed:
            console.print(Text(f"{report.title.split('::')[0]} printed:", style="bold"))
            for line in report.printed:
                console.print(Text("│ " + line, style="dim"))
            console.print()
        if report.steps:
            from gradx.render.graph_tree import _values as shaped

            leaves = report.steps[0].graph.leaves
            shown = "; ".join(f"{leaf.name} = {shaped(leaf.tensor)}" for leaf in leaves)
            console.print(Text(f"inputs: {shown}", style="dim"))
            console.print()
        for step, view in zip(report.steps, views, strict=True):
            what = "f (the forward pass)" if step.order == 0 else _title(step.order, report)
            console.print(Text(f"order {step.order}: {what}", style="bold"))
            console.print(graph_tree(step.graph, view))
            console.print()
        table = Table(title=f"how the graph grows (differentiating along {report.variable})")
        for column in ("order", "value", "graph nodes", "saved tensors", "saved bytes"):
            table.add_column(column, justify="right")
        for step in report.steps:
            values = step.graph.output.values
            shown = ", ".join(f"{v:.6g}" for v in values) if values is not None else "…"
            table.add_row(
                str(step.order),
                shown,
                str(step.nodes),
                str(step.saved_tensors),
                f"{step.saved_bytes:,}",
            )
        console.print(table)
        # Times vary from run to run: on a line of their own, out of the table's layout.
        times = ", ".join(
            f"{'f' if s.order == 0 else _name(s.order)} {s.seconds * 1e3:.2f} ms"
            for s in report.steps
        )
        console.print(f"time of each pass: {times}")
        for note in report.notes:
            console.print(Text(f"note: {note}", style="dim"))
        if report.stopped:
            console.print(Text(report.stopped, style="alert" if report.failed else "caution"))
        console.print(
            "Each backward with create_graph=True is recorded as a new graph on top of the ones "
            "below it: the graph of order k holds those of the lower orders, so the node counts "
            "grow, and every saved tensor stays in memory as long as the graph does."
        )


def _title(order: int, report: HigherOrderGraphs) -> str:
    ticks = "'" * order if order <= 3 else f"({order})"
    if order == 1 and report.grad_outputs is not None:
        return (
            f"f', built by torch.autograd.grad(f, {report.variable}, "
            f"grad_outputs={report.grad_outputs}, create_graph=True)"
        )
    return (
        f"f{ticks}, built by torch.autograd.grad(f{'' if order == 1 else _ticks(order - 1)}"
        f".sum(), {report.variable}, create_graph=True)"
    )


def _name(order: int) -> str:
    return "f" + _ticks(order)


def _ticks(order: int) -> str:
    return "'" * order if order <= 3 else f"({order})"
