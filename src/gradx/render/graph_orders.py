"""``gradx graph EXPR --order N``: each order's graph as a tree, then a table of how the graphs
grow (nodes, saved tensors and bytes, time); or one JSON document."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from gradx.commands.graph.model import GraphView, HigherOrderGraphs
from gradx.render.graph_json import graph_data


def emit_orders(
    report: HigherOrderGraphs,
    views: Sequence[GraphView],
    *,
    json_out: bool,
    lang: str = "en",
) -> None:
    """Print each order's folded view and the growth table in ``lang`` (or one JSON document,
    in English)."""
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
                    "graph": graph_data(step.graph),
                }
                for step in report.steps
            ],
            "stopped": None if report.stopped is None else str(report.stopped),
            "notes": [str(note) for note in report.notes],
            "grad_outputs": report.grad_outputs,
            "printed": list(report.printed),
        }
        sys.stdout.write(json.dumps(document, default=str) + "\n")
    else:
        from rich.table import Table
        from rich.text import Text

        from gradx.render.console import stdout_console
        from gradx.render.graph_tree import graph_tree
        from gradx.translations import N_, translate

        console = stdout_console()
        if report.printed:
            file = report.title.split("::")[0]
            console.print(Text(translate("{file} printed:", lang, file=file), style="bold"))
            for line in report.printed:
                console.print(Text("│ " + line, style="dim"))
            console.print()
        if report.steps:
            from gradx.render.graph_tree import _values as shaped

            leaves = report.steps[0].graph.leaves
            shown = "; ".join(f"{leaf.name} = {shaped(leaf.tensor)}" for leaf in leaves)
            console.print(Text(translate("inputs: {values}", lang, values=shown), style="dim"))
            console.print()
        for step, view in zip(report.steps, views, strict=True):
            if step.order == 0:
                title = translate("order {order}: f (the forward pass)", lang, order=0)
            else:
                title = translate(
                    "order {order}: {name}, built by {call}",
                    lang,
                    order=step.order,
                    name=_name(step.order),
                    call=_call(step.order, report),
                )
            console.print(Text(title, style="bold"))
            console.print(graph_tree(step.graph, view, lang))
            console.print()
        table = Table(
            title=translate(
                "how the graph grows (differentiating along {variable})",
                lang,
                variable=report.variable,
            )
        )
        for column in (
            N_("order"),
            N_("value"),
            N_("graph nodes"),
            N_("saved tensors"),
            N_("saved bytes"),
        ):
            table.add_column(translate(column, lang), justify="right")
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
        console.print(translate("time of each pass: {times}", lang, times=times))
        for note in report.notes:
            console.print(
                Text(translate("note: {note}", lang, note=note.in_lang(lang)), style="dim")
            )
        if report.stopped is not None:
            console.print(
                Text(report.stopped.in_lang(lang), style="alert" if report.failed else "caution")
            )
        console.print(
            translate(
                "Each backward with create_graph=True is recorded as a new graph on top of the "
                "ones below it: the graph of order k holds those of the lower orders, so the "
                "node counts grow, and every saved tensor stays in memory as long as the graph "
                "does.",
                lang,
            )
        )


def _call(order: int, report: HigherOrderGraphs) -> str:
    """``torch.autograd.grad(f'.sum(), x, create_graph=True)``: the call that builds order k."""
    if order == 1 and report.grad_outputs is not None:
        return (
            f"torch.autograd.grad(f, {report.variable}, "
            f"grad_outputs={report.grad_outputs}, create_graph=True)"
        )
    return (
        f"torch.autograd.grad(f{'' if order == 1 else _ticks(order - 1)}"
        f".sum(), {report.variable}, create_graph=True)"
    )


def _name(order: int) -> str:
    return "f" + _ticks(order)


def _ticks(order: int) -> str:
    return "'" * order if order <= 3 else f"({order})"
