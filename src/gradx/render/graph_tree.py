"""``gradx graph``: the backward graph as a rich Tree, from the output down to the leaves.

Below the tree: every leaf with the gradient that reached it (or why none did), how backward
was called, and how many nodes the tree shows, folds and hides. Draws only the graph model and
the folded view built by ``gradx.commands.graph``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from gradx.commands.graph.model import (
    AutogradGraph,
    Cut,
    GraphNode,
    GraphView,
    Leaf,
    SavedValue,
    TensorInfo,
    ViewItem,
)
from gradx.render.numbers import fmt_array, fmt_value

NUMBER = re.compile(r"-?\d+(\.\d*)?(e-?\d+)?")
MAX_LEAF_ROWS = 16  # beyond it: the first and last leaves, and a count
CUT_WORDS = {
    "detach": ".detach()",
    "data": ".data",
    "data-write": "a write through .data",
    "no_grad": "torch.no_grad()",
    "item": ".item()",
    "tolist": ".tolist()",
    "numpy": ".numpy()",
    "non-differentiable": "a non-differentiable operation",
}


def render_graph(graph: AutogradGraph, view: GraphView, console: Console) -> None:
    """Print the tree, the leaves table, the backward line and the counts."""
    console.print(view_group(graph, view))


def graph_tree(graph: AutogradGraph, view: GraphView) -> Tree:
    """The tree: the output at the top, each node's inputs below it."""
    out = graph.output
    label = Text.assemble(("output", "bold"), f" {_tensor(out)}")
    shown = _values(out, rows=True) if out.values is not None else None
    if shown is not None and "\n" not in shown:
        label.append(f" = {shown}")
    label.append(f" · grad_fn={graph.output_grad_fn}" if graph.output_grad_fn else " · no grad_fn")
    if shown is not None and "\n" in shown:
        rows = shown.split("\n")  # a matrix below the label, its rows aligned
        label.append("\n= " + "\n".join([rows[0], *("  " + r if r else "" for r in rows[1:])]))
    tree = Tree(label, guide_style="dim")
    if view.root is None and graph.output_leaf is not None:
        tree.add(Text(f"(no graph: the output is the input {graph.output_leaf} itself)"))
        return tree
    if view.root is None:
        tree.add(Text("(no graph: the output does not require grad)", style="caution"))
        return tree
    _add(tree, view.root, graph)
    return tree


def _add(parent: Tree, item: ViewItem, graph: AutogradGraph) -> None:
    """Add an item and its children (recursion depth is bounded by the view's depth)."""
    branch = parent.add(_label(item, graph))
    for child in item.children:
        _add(branch, child, graph)


def _label(item: ViewItem, graph: AutogradGraph) -> Text:
    if item.kind == "node":
        assert item.node is not None  # a node item always names its node
        return _node_label(graph.nodes[item.node], graph)
    if item.kind == "ref":
        assert item.node is not None
        node = graph.nodes[item.node]
        what = f" ({node.leaf})" if node.leaf else ""
        return Text(f"↑ #{node.id} {node.name}{what}, shown above", style="dim")
    if item.kind == "fold":
        return Text(
            f"⋯ {item.repeats} more × [{' → '.join(item.pattern)}] with the same shapes "
            f"({item.hidden} nodes folded)",
            style="hint",
        )
    if item.kind == "more":
        return Text(
            f"… {item.hidden} more node{'s' if item.hidden != 1 else ''} below "
            "(raise --depth to see them)",
            style="dim",
        )
    assert item.cut is not None  # the remaining kind, "cut", always names its cut
    return _cut_label(graph.cuts[item.cut])


def _node_label(node: GraphNode, graph: AutogradGraph) -> Text:
    text = Text.assemble((f"#{node.id} ", "dim"), (node.name, "bold"))
    if node.leaf is not None:
        leaf = _leaf(graph, node.leaf)
        text.append(f" → {node.leaf}", style="id")
        if leaf is not None:
            text.append(f" {_tensor(leaf.tensor)} · leaf, requires_grad")
            if leaf.grad is not None:
                grad = _values(leaf.grad, rows=True)
                # A matrix goes below the label, one row per line, never wrapped mid-row.
                gap = "\n" if "\n" in grad else " "
                text.append(f" · grad{gap}{grad}", style="good")
        return text
    if node.outputs:
        text.append(" → " + ", ".join(_tensor(t) for t in node.outputs))
    shown = [s for s in node.saved if s.tensor is not None or _plain_number(s)]
    if shown:
        text.append(" · saved: ", style="dim")
        text.append(", ".join(_saved(s, graph) for s in shown))
    return text


def _plain_number(saved: SavedValue) -> bool:
    """Numbers worth a glance (``exponent=2``); sizes, strides and unit scales are noise."""
    return saved.name not in ("alpha", "beta") and NUMBER.fullmatch(saved.text) is not None


def _saved(saved: SavedValue, graph: AutogradGraph) -> str:
    if saved.written is not None:
        write = graph.cuts[saved.written]
        where = f" at {write.location}" if write.location else ""
        return f"{saved.name}={saved.refers_to or (_values(saved.tensor) if saved.tensor else '')} ✎ changed through .data{where}"
    if saved.tensor is None:
        return f"{saved.name}={saved.text}"
    if saved.cut is not None:
        cut = graph.cuts[saved.cut]
        return f"{saved.name}={_values(saved.tensor)} (cut by {CUT_WORDS.get(cut.kind, cut.kind)})"
    if saved.refers_to == "constant" and saved.tensor.values is not None:
        return f"{saved.name}={_values(saved.tensor)} (constant)"
    if saved.refers_to:
        return f"{saved.name}={saved.refers_to} {_shape(saved.tensor.shape)}"
    return f"{saved.name}={_tensor(saved.tensor)}"


def _cut_label(cut: Cut) -> Text:
    where = f" at {cut.location}" if cut.location else ""
    code = f" ({cut.code})" if cut.code else ""
    who = ", ".join(cut.leaves) or "its inputs"
    return Text(
        f"✂ cut by {CUT_WORDS.get(cut.kind, cut.kind)}{where}{code}: "
        f"no gradient flows back to {who} this way",
        style="bad",
    )


def leaves_table(graph: AutogradGraph) -> Table:
    """One row per leaf: shape, dtype, requires_grad, and the gradient that reached it."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("leaf", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    table.add_column("requires_grad")
    table.add_column("value", overflow="fold")
    table.add_column("gradient after backward", overflow="fold")
    leaves: list[Leaf | None] = list(graph.leaves)
    hidden = 0
    if len(leaves) > MAX_LEAF_ROWS:
        keep = MAX_LEAF_ROWS - 4
        hidden = len(leaves) - MAX_LEAF_ROWS
        leaves = leaves[:keep] + [None] + leaves[-4:]
    for leaf in leaves:
        if leaf is None:
            table.add_row(f"… {hidden} more", "", "", "", "", "")
            continue
        table.add_row(
            leaf.name,
            _shape(leaf.tensor.shape),
            leaf.tensor.dtype,
            "yes" if leaf.requires_grad else "no",
            _values(leaf.tensor, rows=True),
            _gradient_cell(leaf, graph),
        )
    return table


def _gradient_cell(leaf: Leaf, graph: AutogradGraph) -> Text:
    if not leaf.requires_grad:
        return Text("— (does not require grad)", style="dim")
    if graph.backward_error is not None:
        return Text("? (backward failed)", style="caution")
    if graph.backward_skipped:
        return Text("— (no backward pass)", style="dim")
    if leaf.grad is not None:
        return Text(_values(leaf.grad, rows=True), style="good")
    why = "not connected to the output"
    if leaf.cut_by:
        cuts = [graph.cuts[i] for i in leaf.cut_by]
        why = "cut by " + "; ".join(
            CUT_WORDS.get(c.kind, c.kind) + (f" at {c.location}" if c.location else "")
            for c in cuts
        )
    return Text(f"✗ none: {why}", style="alert")


def footer_lines(graph: AutogradGraph, view: GraphView) -> list[Text]:
    """How backward was called (or failed), notes, leaves without gradient, the node counts."""
    lines = [Text(f"backward: {graph.backward}")]
    writes = {s.written for s in graph.corrupted_saved}
    for index in sorted(w for w in writes if w is not None):
        write = graph.cuts[index]
        where = f" at {write.location}" if write.location else ""
        code = f" ({write.code})" if write.code else ""
        lines.append(
            Text(
                f"✎ a tensor saved for backward was changed through .data{where}{code}: "
                "backward used the changed values, so the gradients above are wrong",
                style="alert",
            )
        )
    if graph.backward_error is not None:
        lines.append(Text(f"backward failed: {graph.backward_error}", style="alert"))
        lines.append(Text('  gradx explain-error "<the message>" explains autograd errors'))
    for note in graph.notes:
        lines.append(Text(f"note: {note}", style="dim"))
    starved = graph.starved_leaves
    if starved:
        names = ", ".join(leaf.name for leaf in starved)
        lines.append(
            Text(
                f"{len(starved)} leaf tensor{'s' if len(starved) != 1 else ''} that "
                f"require{'s' if len(starved) == 1 else ''} grad received no gradient: {names}",
                style="alert",
            )
        )
    lines.append(Text(_counts(view), style="dim"))
    return lines


def _counts(view: GraphView) -> str:
    if view.root is None:
        return "0 nodes"
    parts = [f"{view.total} node{'s' if view.total != 1 else ''}"]
    hidden = view.folded + view.below_depth
    if not hidden:
        return parts[0] + ", all shown"
    parts.append(f"{view.shown} shown")
    if view.folded:
        parts.append(f"{view.folded} folded (repeats)")
    if view.below_depth:
        parts.append(f"{view.below_depth} below --depth {view.depth}")
    return ", ".join(parts)


def _leaf(graph: AutogradGraph, name: str) -> Leaf | None:
    return next((leaf for leaf in graph.leaves if leaf.name == name), None)


def _tensor(info: TensorInfo) -> str:
    return f"{_shape(info.shape)} {info.dtype}"


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _values(info: TensorInfo, rows: bool = False) -> str:
    """The values in their shape: ``[[1, 2], [3, 4]]`` on one line; with ``rows`` as torch
    prints them, a matrix one row per line with its columns aligned."""
    if info.values is not None:
        numbers = [fmt_value(v, 6) for v in info.values]
        if rows or not info.shape:
            return fmt_array(numbers, info.shape)
        return _nested(numbers, info.shape)
    if info.norm is not None:
        return f"‖·‖ = {fmt_value(info.norm, 6)}"
    return "…"


def _nested(numbers: Sequence[str], shape: Sequence[int]) -> str:
    if len(shape) <= 1:
        return "[" + ", ".join(numbers) + "]"
    step = len(numbers) // shape[0] if shape[0] else 0
    return (
        "["
        + ", ".join(_nested(numbers[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0]))
        + "]"
    )


def view_group(graph: AutogradGraph, view: GraphView) -> Group:
    """Everything ``render_graph`` prints, as one renderable (for tests and embedding)."""
    return Group(
        *printed_lines(graph),
        graph_tree(graph, view),
        leaves_table(graph),
        *footer_lines(graph, view),
    )


def printed_lines(graph: AutogradGraph) -> list[Text]:
    """What the user's file printed while it was loaded and called, apart from gradx's output."""
    if not graph.printed:
        return []
    lines = [Text(f"{graph.title.split('::')[0]} printed:", style="bold")]
    lines.extend(Text("│ " + line, style="dim") for line in graph.printed)
    lines.append(Text(""))
    return lines
