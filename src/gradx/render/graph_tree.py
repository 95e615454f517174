"""``gradx graph``: the backward graph as a rich Tree, from the output down to the leaves.

Below the tree: every leaf with the gradient that reached it (or why none did), how backward
was called, and how many nodes the tree shows, folds and hides. Draws only the graph model and
the folded view built by ``gradx.commands.graph``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
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
from gradx.graph_words import cut_words
from gradx.render.cjk_wrap import wrapped
from gradx.text import fmt_shape, fmt_tensor_values
from gradx.translations import N_, translate

NUMBER = re.compile(r"-?\d+(\.\d*)?(e-?\d+)?")
MAX_LEAF_ROWS = 16  # beyond it: the first and last leaves, and a count


def _at(location: str, lang: str) -> str:
    """`` at script.py:12`` (nothing when the line is unknown)."""
    return translate(" at {location}", lang, location=location) if location else ""


def render_graph(graph: AutogradGraph, view: GraphView, console: Console, lang: str = "en") -> None:
    """Print the tree, the leaves table, the backward line and the counts, in ``lang``."""
    console.print(view_group(graph, view, lang))


def graph_tree(graph: AutogradGraph, view: GraphView, lang: str = "en") -> Tree:
    """The tree: the output at the top, each node's inputs below it."""
    out = graph.output
    label = Text.assemble((translate("output", lang), "bold"), f" {_tensor(out)}")
    shown = _values(out, rows=True) if out.values is not None else None
    if shown is not None and "\n" not in shown:
        label.append(f" = {shown}")
    if graph.output_grad_fn:
        label.append(f" · grad_fn={graph.output_grad_fn}")
    else:
        label.append(" · " + translate("no grad_fn", lang))
    if shown is not None and "\n" in shown:
        rows = shown.split("\n")  # a matrix below the label, its rows aligned
        label.append("\n= " + "\n".join([rows[0], *("  " + r if r else "" for r in rows[1:])]))
    tree = Tree(wrapped(label, lang), guide_style="dim")
    if view.root is None and graph.output_leaf is not None:
        tree.add(
            Text(
                translate(
                    "(no graph: the output is the input {name} itself)",
                    lang,
                    name=graph.output_leaf,
                )
            )
        )
        return tree
    if view.root is None:
        tree.add(
            Text(translate("(no graph: the output does not require grad)", lang), style="caution")
        )
        return tree
    _add(tree, view.root, graph, lang)
    return tree


def _add(parent: Tree, item: ViewItem, graph: AutogradGraph, lang: str) -> None:
    """Add an item and its children (recursion depth is bounded by the view's depth)."""
    branch = parent.add(wrapped(_label(item, graph, lang), lang))
    for child in item.children:
        _add(branch, child, graph, lang)


def _label(item: ViewItem, graph: AutogradGraph, lang: str) -> Text:
    if item.kind == "node":
        assert item.node is not None  # a node item always names its node
        return _node_label(graph.nodes[item.node], graph, lang)
    if item.kind == "ref":
        assert item.node is not None
        node = graph.nodes[item.node]
        what = f" ({node.leaf})" if node.leaf else ""
        return Text(
            translate(
                "↑ #{id} {name}{leaf}, shown above", lang, id=node.id, name=node.name, leaf=what
            ),
            style="dim",
        )
    if item.kind == "fold":
        return Text(
            translate(
                "⋯ {repeats} more × [{pattern}] with the same shapes ({hidden} nodes folded)",
                lang,
                repeats=item.repeats,
                pattern=" → ".join(item.pattern),
                hidden=item.hidden,
            ),
            style="hint",
        )
    if item.kind == "more":
        return Text(
            translate(
                N_("… {count} more node below (raise --depth to see them)")
                if item.hidden == 1
                else N_("… {count} more nodes below (raise --depth to see them)"),
                lang,
                count=item.hidden,
            ),
            style="dim",
        )
    assert item.cut is not None  # the remaining kind, "cut", always names its cut
    return _cut_label(graph.cuts[item.cut], lang)


def _node_label(node: GraphNode, graph: AutogradGraph, lang: str) -> Text:
    text = Text.assemble((f"#{node.id} ", "dim"), (node.name, "bold"))
    if node.leaf is not None:
        leaf = _leaf(graph, node.leaf)
        text.append(f" → {node.leaf}", style="id")
        if leaf is not None:
            text.append(f" {_tensor(leaf.tensor)} · " + translate("leaf, requires_grad", lang))
            if leaf.grad is not None:
                grad = _values(leaf.grad, rows=True)
                # A matrix goes below the label, one row per line, never wrapped mid-row.
                gap = "\n" if "\n" in grad else " "
                text.append(f" · {translate('grad', lang)}{gap}{grad}", style="good")
        return text
    if node.outputs:
        text.append(" → " + ", ".join(_tensor(t) for t in node.outputs))
    shown = [s for s in node.saved if s.tensor is not None or _plain_number(s)]
    if shown:
        text.append(" · " + translate("saved:", lang) + ("" if lang == "zh" else " "), style="dim")
        text.append(", ".join(_saved(s, graph, lang) for s in shown))
    return text


def _plain_number(saved: SavedValue) -> bool:
    """Numbers worth a glance (``exponent=2``); sizes, strides and unit scales are noise."""
    return saved.name not in ("alpha", "beta") and NUMBER.fullmatch(saved.text) is not None


def _saved(saved: SavedValue, graph: AutogradGraph, lang: str) -> str:
    if saved.written is not None:
        write = graph.cuts[saved.written]
        value = saved.refers_to or (_values(saved.tensor) if saved.tensor else "")
        changed = translate("✎ changed through .data{where}", lang, where=_at(write.location, lang))
        return f"{saved.name}={value} {changed}"
    if saved.tensor is None:
        return f"{saved.name}={saved.text}"
    if saved.cut is not None:
        cut = graph.cuts[saved.cut]
        said = translate("(cut by {what})", lang, what=cut_words(cut.kind, lang))
        return f"{saved.name}={_values(saved.tensor)} {said}"
    if saved.refers_to == "constant" and saved.tensor.values is not None:
        return f"{saved.name}={_values(saved.tensor)} {translate('(constant)', lang)}"
    if saved.refers_to:
        return f"{saved.name}={saved.refers_to} {_shape(saved.tensor.shape)}"
    return f"{saved.name}={_tensor(saved.tensor)}"


def _cut_label(cut: Cut, lang: str) -> Text:
    code = f" ({cut.code})" if cut.code else ""
    who = ", ".join(cut.leaves) or translate("its inputs", lang)
    return Text(
        translate(
            "✂ cut by {what}{where}{code}: no gradient flows back to {who} this way",
            lang,
            what=cut_words(cut.kind, lang),
            where=_at(cut.location, lang),
            code=code,
            who=who,
        ),
        style="bad",
    )


def leaves_table(graph: AutogradGraph, lang: str = "en") -> Table:
    """One row per leaf: shape, dtype, requires_grad, and the gradient that reached it."""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column(translate("leaf", lang), no_wrap=True)
    table.add_column(translate("shape", lang), no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    table.add_column("requires_grad")
    table.add_column(translate("value", lang), overflow="fold")
    table.add_column(translate("gradient after backward", lang), overflow="fold")
    leaves: list[Leaf | None] = list(graph.leaves)
    hidden = 0
    if len(leaves) > MAX_LEAF_ROWS:
        keep = MAX_LEAF_ROWS - 4
        hidden = len(leaves) - MAX_LEAF_ROWS
        leaves = leaves[:keep] + [None] + leaves[-4:]
    for leaf in leaves:
        if leaf is None:
            table.add_row(translate("… {count} more", lang, count=hidden), "", "", "", "", "")
            continue
        table.add_row(
            leaf.name,
            _shape(leaf.tensor.shape),
            leaf.tensor.dtype,
            translate(N_("yes") if leaf.requires_grad else N_("no"), lang),
            _values(leaf.tensor, rows=True),
            _gradient_cell(leaf, graph, lang),
        )
    return table


def _gradient_cell(leaf: Leaf, graph: AutogradGraph, lang: str) -> Text:
    if not leaf.requires_grad:
        return Text(translate("— (does not require grad)", lang), style="dim")
    if graph.backward_error is not None:
        return Text(translate("? (backward failed)", lang), style="caution")
    if graph.backward_skipped:
        return Text(translate("— (no backward pass)", lang), style="dim")
    if leaf.grad is not None:
        return Text(_values(leaf.grad, rows=True), style="good")
    if leaf.cut_by:
        cuts = [graph.cuts[i] for i in leaf.cut_by]
        where = "; ".join(cut_words(c.kind, lang) + _at(c.location, lang) for c in cuts)
        return Text(translate("✗ none: cut by {cuts}", lang, cuts=where), style="alert")
    return Text(translate("✗ none: not connected to the output", lang), style="alert")


def footer_lines(graph: AutogradGraph, view: GraphView, lang: str = "en") -> list[RenderableType]:
    """How backward was called (or failed), notes, leaves without gradient, the node counts."""
    separator = "；" if lang == "zh" else "; "
    how = separator.join(part.in_lang(lang) for part in graph.backward)
    lines = [Text(translate("backward: {how}", lang, how=how))]
    writes = {s.written for s in graph.corrupted_saved}
    for index in sorted(w for w in writes if w is not None):
        write = graph.cuts[index]
        code = f" ({write.code})" if write.code else ""
        lines.append(
            Text(
                translate(
                    "✎ a tensor saved for backward was changed through .data{where}{code}: "
                    "backward used the changed values, so the gradients above are wrong",
                    lang,
                    where=_at(write.location, lang),
                    code=code,
                ),
                style="alert",
            )
        )
    if graph.backward_error is not None:
        lines.append(
            Text(
                translate("backward failed: {error}", lang, error=graph.backward_error),
                style="alert",
            )
        )
        lines.append(
            Text(translate('  gradx explain-error "<the message>" explains autograd errors', lang))
        )
    for note in graph.notes:
        lines.append(Text(translate("note: {note}", lang, note=note.in_lang(lang)), style="dim"))
    starved = graph.starved_leaves
    if starved:
        names = ", ".join(leaf.name for leaf in starved)
        lines.append(
            Text(
                translate(
                    N_("{count} leaf tensor that requires grad received no gradient: {names}")
                    if len(starved) == 1
                    else N_("{count} leaf tensors that require grad received no gradient: {names}"),
                    lang,
                    count=len(starved),
                    names=names,
                ),
                style="alert",
            )
        )
    lines.append(Text(_counts(view, lang), style="dim"))
    return [wrapped(line, lang) for line in lines]


def _counts(view: GraphView, lang: str) -> str:
    if view.root is None:
        return translate("{count} nodes", lang, count=0)
    nodes = translate(
        N_("{count} node") if view.total == 1 else N_("{count} nodes"), lang, count=view.total
    )
    hidden = view.folded + view.below_depth
    if not hidden:
        return translate("{nodes}, all shown", lang, nodes=nodes)
    parts = [nodes, translate("{count} shown", lang, count=view.shown)]
    if view.folded:
        parts.append(translate("{count} folded (repeats)", lang, count=view.folded))
    if view.below_depth:
        parts.append(
            translate(
                "{count} below --depth {depth}", lang, count=view.below_depth, depth=view.depth
            )
        )
    return ("，" if lang == "zh" else ", ").join(parts)


def _leaf(graph: AutogradGraph, name: str) -> Leaf | None:
    return next((leaf for leaf in graph.leaves if leaf.name == name), None)


def _tensor(info: TensorInfo) -> str:
    return f"{_shape(info.shape)} {info.dtype}"


def _shape(shape: Sequence[int]) -> str:
    return fmt_shape(shape)


def _values(info: TensorInfo, rows: bool = False) -> str:
    """The values in their shape: ``[[1, 2], [3, 4]]`` on one line; with ``rows`` as torch
    prints them, a matrix one row per line with its columns aligned."""
    return fmt_tensor_values(info.values, info.norm, info.shape, rows=rows)


def view_group(graph: AutogradGraph, view: GraphView, lang: str = "en") -> Group:
    """Everything ``render_graph`` prints, as one renderable (for tests and embedding)."""
    return Group(
        *printed_lines(graph, lang),
        graph_tree(graph, view, lang),
        leaves_table(graph, lang),
        *footer_lines(graph, view, lang),
    )


def printed_lines(graph: AutogradGraph, lang: str = "en") -> list[Text]:
    """What the user's file printed while it was loaded and called, apart from gradx's output."""
    if not graph.printed:
        return []
    file = graph.title.split("::")[0]
    lines = [Text(translate("{file} printed:", lang, file=file), style="bold")]
    lines.extend(Text("│ " + line, style="dim") for line in graph.printed)
    lines.append(Text(""))
    return lines
