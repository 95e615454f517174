"""``gradx graph --json``: the whole graph model as one JSON document (schema 1)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from gradx.commands.graph.model import AutogradGraph, GraphView

SCHEMA = 1


def graph_document(graph: AutogradGraph, view: GraphView) -> dict[str, Any]:
    """The graph as plain JSON data: nodes, leaves, cuts, backward and the view's counts."""
    document = {"schema": SCHEMA, **graph_data(graph)}
    document["starved_leaves"] = [leaf.name for leaf in graph.starved_leaves]
    document["counts"] = {
        "nodes": len(graph.nodes),
        "shown": view.shown,
        "folded": view.folded,
        "below_depth": view.below_depth,
    }
    return document


def graph_data(graph: AutogradGraph) -> dict[str, Any]:
    """The graph's fields as plain JSON data; its sentences in English (JSON is a machine
    format: the same whatever ``--lang`` says)."""
    data = _plain(dataclasses.asdict(graph))
    data["backward"] = graph.backward_text
    data["notes"] = [str(note) for note in graph.notes]
    return data


def graph_json(graph: AutogradGraph, view: GraphView) -> str:
    """The JSON text of ``graph_document``."""
    return json.dumps(graph_document(graph, view), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """Tuples as lists and NaN/infinities as null (JSON has neither)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
