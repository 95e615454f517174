"""Wires ``gradx graph``'s outputs: the tree (or JSON) on stdout, DOT to a file; with ``--order``
the per-order trees (``graph_orders``)."""

from __future__ import annotations

import sys
from pathlib import Path

from gradx.commands.graph.model import AutogradGraph, GraphReport, GraphView, OrdersReport


def emit(
    report: GraphReport | OrdersReport,
    *,
    json_out: bool,
    dot_path: Path | None,
    save: Path | None = None,
    lang: str = "en",
) -> None:
    """Write what ``GraphRequest.run`` returned, in ``lang``: the picture into ``save`` (when
    the request laid one out), then one graph (``emit_graph``) or the graphs of the derivatives
    (``emit_orders``, which writes no DOT)."""
    if save is not None and report.picture is not None:
        from gradx.render.graph_picture import emit_picture

        emit_picture(report.picture, save, lang)
    if isinstance(report, OrdersReport):
        from gradx.render.graph_orders import emit_orders

        emit_orders(report.orders, report.views, json_out=json_out, lang=lang)
        return
    emit_graph(report.graph, report.view, json_out=json_out, dot_path=dot_path, lang=lang)


def emit_graph(
    graph: AutogradGraph,
    view: GraphView,
    *,
    json_out: bool,
    dot_path: Path | None,
    lang: str = "en",
) -> None:
    """Print the folded ``view`` of the graph in ``lang`` (or JSON, always English), and write
    the whole graph as DOT.

    ``--dot -`` writes the DOT source to standard output instead of the tree (the request
    refuses it together with ``--json``).
    """
    from gradx.atomic_file import is_stdout

    dot_on_stdout = dot_path is not None and is_stdout(dot_path)
    if dot_path is not None:
        from gradx.atomic_file import atomic_write
        from gradx.render.graph_dot import dot_source

        with atomic_write(dot_path) as handle:
            handle.write(dot_source(graph))
    if dot_on_stdout:
        return
    if json_out:
        from gradx.render.graph_json import graph_json

        sys.stdout.write(graph_json(graph, view) + "\n")
    else:
        from gradx.render.console import stdout_console
        from gradx.render.graph_tree import render_graph

        render_graph(graph, view, stdout_console(), lang)
