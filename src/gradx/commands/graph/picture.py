"""``gradx graph --save FILE``: what the picture of the graph shows, and where (no graphviz).

The picture shows what the tree shows, unfolded: the output on top, every ``grad_fn`` node once
(a node used twice gets two edges), its output shape and saved tensors, the leaves with their
values and gradients, the cuts (``.detach()``, ``.data``, ``no_grad``...) and the saved tensors
changed through ``.data``. This module writes each box's lines and hands the boxes and edges to
``gradx.commands.graph.layout``; the renderers in ``gradx.render.graph_picture`` only draw the
``GraphPicture`` that comes out. The option checks below import nothing heavy, so a bad
``--save`` or ``--dot`` is refused before torch is.

The words are in the language of ``--lang``, with the tree's templates where the words are the
same. Chinese characters are two cells wide, so the language is chosen before the layout: a PNG
or PDF is laid out in English when no installed font draws Chinese (``drawable_lang``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib.util import find_spec
from pathlib import Path

from gradx import cjk_fonts
from gradx.commands.graph.layout import layered_layout
from gradx.commands.graph.model import (
    AutogradGraph,
    Cut,
    GraphNode,
    GraphPicture,
    HigherOrderGraphs,
    Leaf,
    PictureBox,
    PictureEdge,
    PictureLine,
    PictureText,
    SavedValue,
    TensorInfo,
)
from gradx.errors import GradxError
from gradx.graph_words import cut_words
from gradx.text import fmt_shape, fmt_tensor_values, fmt_value
from gradx.translations import N_, Phrase, translate

PICTURE_SUFFIXES = (".svg", ".png", ".pdf")
NEEDS_MATPLOTLIB = (".png", ".pdf")
IMAGE_SUFFIXES = (
    *PICTURE_SUFFIXES, ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".eps", ".ps",
)  # fmt: skip
UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
FONT_SIZE = 12.0  # px
CHAR_WIDTH = 0.62  # of the font size: DejaVu Sans Mono's advance is 0.602, with a little room
LINE_HEIGHT = 16.0  # px
PAD_X = 8.0  # inside a box, left and right
PAD_Y = 6.0
MARGIN = 24.0
MAX_LINE = 64  # characters of a box line; longer values are shortened with …
MATRIX_ROWS = 6  # a matrix of up to this many rows is drawn one row per line
LARGE = 300  # boxes; a larger graph gets a note that it is large (zoom in)
PANEL_GAP = 72.0  # between the panels of --order K
GROWTH = N_(
    "each order's graph holds the graphs of the orders before it (create_graph=True records "
    "backward as a graph of its own): that is why higher derivatives cost more"
)
LEGEND = {
    "input": N_("arrows: the way backward sends gradients, from the output down to the leaves"),
    "cut": N_("red: where the graph was cut, and the leaf that lost its gradient there"),
    "saved": N_("dashed grey: a frozen leaf (requires_grad=False) that a node saved"),
}


def check_picture_options(*, dot: Path | str | None, save: Path | str | None) -> None:
    """Refuse (exit 2) a ``--dot`` or ``--save`` path that cannot work, before torch is imported."""
    if dot is not None:
        check_dot_path(Path(dot))
    if save is not None:
        check_picture_path(Path(save))


def picture_of(result: AutogradGraph | HigherOrderGraphs, lang: str = "en") -> GraphPicture:
    """The picture of one graph, or of the graphs of ``--order K`` side by side, its words in
    ``lang``."""
    if isinstance(result, HigherOrderGraphs):
        return orders_picture(result, lang)
    return graph_picture(result, lang=lang)


def drawable_lang(lang: str, path: Path) -> str:
    """The language a picture saved to ``path`` can be drawn in: ``lang``, or English for a PNG
    or PDF when no installed font has Chinese glyphs (matplotlib draws with the fonts it has;
    an SVG names fonts for its viewer to find)."""
    if lang == "en" or path.suffix.lower() not in NEEDS_MATPLOTLIB:
        return lang
    return lang if cjk_fonts.cjk_font() is not None else "en"


def check_picture_path(path: Path) -> None:
    """Refuse (exit 2) a ``--save`` path that cannot work, before torch is imported."""
    suffix = path.suffix.lower()
    if suffix not in PICTURE_SUFFIXES:
        raise GradxError(
            f"--save {path}: the file name must end in .svg, .png or .pdf "
            "(the format follows the suffix)"
        )
    if suffix in NEEDS_MATPLOTLIB and find_spec("matplotlib") is None:
        raise GradxError(
            f"--save {path} needs matplotlib, which is not installed: pip install 'gradx[plot]' "
            "(or save .svg, which needs nothing)"
        )
    from gradx.atomic_file import check_writable

    check_writable(path)


def check_dot_path(path: Path) -> None:
    """Refuse (exit 2) ``--dot out.svg``: DOT is text for graphviz, not a picture."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        picture = path if suffix in PICTURE_SUFFIXES else path.with_suffix(".png")
        raise GradxError(
            f"--dot {path}: DOT is text for graphviz (name it .dot or .gv, or - for standard "
            f"output); for a picture use --save {picture}"
        )


@dataclass(frozen=True)
class _Box:
    key: str
    kind: str
    lines: tuple[PictureLine, ...]
    alert: bool = False


def graph_picture(
    graph: AutogradGraph, heading: str | None = None, *, panel: bool = False, lang: str = "en"
) -> GraphPicture:
    """The whole graph laid out top-down, with a title above it and notes below it, in ``lang``.

    A ``panel`` (one order of ``--order K``) says nothing of backward, which it did not run: no
    gradient lines, no backward line, no legend (the whole picture has one).
    """
    boxes, edges = _boxes_and_edges(graph, lang, gradients=not panel)
    boxes = [
        replace(box, lines=tuple(replace(line, text=_flat(line.text)) for line in box.lines))
        for box in boxes
    ]
    title = [PictureText(MARGIN, MARGIN, _flat(heading or f"gradx graph {graph.title}"), "title")]
    top = MARGIN + LINE_HEIGHT * (len(title) + 1)
    sizes = [_size(box.lines) for box in boxes]
    index = {box.key: k for k, box in enumerate(boxes)}
    layout = layered_layout(
        sizes, [(index[a], index[b]) for a, b, _ in edges], left=MARGIN, top=top
    )
    placed = tuple(
        PictureBox(
            key=box.key,
            kind=box.kind,
            lines=box.lines,
            x=_round(where.x),
            y=_round(where.y),
            width=sizes[k][0],
            height=sizes[k][1],
            layer=where.layer,
            alert=box.alert,
        )
        for k, (box, where) in enumerate(zip(boxes, layout.boxes, strict=True))
    )
    lines = tuple(
        PictureEdge(a, b, kind, tuple((_round(x), _round(y)) for x, y in route))
        for (a, b, kind), route in zip(edges, layout.routes, strict=True)
    )
    kinds = _edge_kinds(lines)
    notes = [(_note(n, lang), "dim") for n in graph.notes] if panel else []
    if not panel:
        notes = _footer(graph, len(boxes), lang) + _legend(kinds, lang)
    y = layout.height + LINE_HEIGHT
    texts = list(title)
    for text, style in notes:
        texts.append(PictureText(MARGIN, y, _flat(text), style))
        y += LINE_HEIGHT
    width = max(layout.width, *(MARGIN + _text_width(t.text) for t in texts)) + MARGIN
    return GraphPicture(
        width=_round(width),
        height=_round(y + MARGIN),
        boxes=placed,
        edges=lines,
        texts=tuple(texts),
        font_size=FONT_SIZE,
        line_height=LINE_HEIGHT,
        padding=(PAD_X, PAD_Y),
        lang=lang,
    )


def orders_picture(report: HigherOrderGraphs, lang: str = "en") -> GraphPicture:
    """``--order K``: one panel per order, side by side, so the growth of the graph shows."""
    panels = []
    for step in report.steps:
        if step.order == 0:
            what = translate("order {order}: f (the forward pass)", lang, order=step.order)
        else:
            what = translate("order {order}: {name}", lang, order=step.order, name=step.graph.title)
        counts = translate(
            "{nodes} nodes, {saved} saved tensors",
            lang,
            nodes=step.nodes,
            saved=step.saved_tensors,
        )
        panels.append(graph_picture(step.graph, f"{what} · {counts}", panel=True, lang=lang))
    title = PictureText(
        MARGIN,
        MARGIN,
        _flat(
            f"gradx graph {report.title} --order {len(report.steps) - 1}: "
            + translate(
                "the graph create_graph=True builds for each order (along {variable})",
                lang,
                variable=report.variable,
            )
        ),
        "title",
    )
    below = MARGIN + 2 * LINE_HEIGHT
    boxes: list[PictureBox] = []
    edges: list[PictureEdge] = []
    texts = [title]
    x = 0.0
    for number, panel in enumerate(panels):
        prefix = f"o{number}:"
        boxes += [
            replace(b, key=prefix + b.key, x=_round(b.x + x), y=_round(b.y + below))
            for b in panel.boxes
        ]
        edges += [
            replace(
                e,
                source=prefix + e.source,
                target=prefix + e.target,
                points=tuple((_round(px + x), _round(py + below)) for px, py in e.points),
            )
            for e in panel.edges
        ]
        texts += [replace(t, x=_round(t.x + x), y=_round(t.y + below)) for t in panel.texts]
        x += panel.width - MARGIN + PANEL_GAP
    height = max((p.height for p in panels), default=0.0) + below
    footer = [(translate(GROWTH, lang), "plain")]
    if report.stopped:
        footer.append((_said(report.stopped, lang), "alert" if report.failed else "dim"))
    footer += [(_note(note, lang), "dim") for note in report.notes]
    footer += _legend(_edge_kinds(edges), lang)
    for text, style in footer:
        texts.append(PictureText(MARGIN, height, _flat(text), style))
        height += LINE_HEIGHT
    width = max(x - PANEL_GAP + MARGIN, *(MARGIN + _text_width(t.text) + MARGIN for t in texts))
    return GraphPicture(
        width=_round(width),
        height=_round(height + MARGIN),
        boxes=tuple(boxes),
        edges=tuple(edges),
        texts=tuple(texts),
        font_size=FONT_SIZE,
        line_height=LINE_HEIGHT,
        padding=(PAD_X, PAD_Y),
        lang=lang,
    )


def _boxes_and_edges(
    graph: AutogradGraph, lang: str, *, gradients: bool = True
) -> tuple[list[_Box], list[tuple[str, str, str]]]:
    """Every box (output first, then nodes, cuts, leaves outside the graph) and every edge."""
    boxes = [_Box("output", "output", _output_lines(graph, lang))]
    edges: list[tuple[str, str, str]] = []
    if graph.root is not None:
        edges.append(("output", f"n{graph.root}", "input"))
    leaves = {leaf.name: leaf for leaf in graph.leaves}
    used_cuts: list[int] = []
    for node in graph.nodes:
        boxes.append(_node_box(node, graph, leaves, gradients, lang))
        for child in node.inputs:
            if child is not None:
                edges.append((f"n{node.id}", f"n{child}", "input"))
        for cut in node.cuts:
            edges.append((f"n{node.id}", f"cut{cut}", "cut"))
            used_cuts.append(cut)
    starved = graph.starved_leaves
    outside = [  # a leaf outside the graph is drawn where it says something: frozen, or starved
        leaf
        for leaf in graph.leaves
        if not leaf.in_graph and (not leaf.requires_grad or leaf in starved or leaf.cut_by)
    ]
    for leaf in outside:
        if leaf.requires_grad:
            used_cuts += list(leaf.cut_by)
    for cut in dict.fromkeys(used_cuts):
        boxes.append(_Box(f"cut{cut}", "cut", _cut_lines(graph.cuts[cut], lang)))
    cut_keys = {box.key for box in boxes if box.kind == "cut"}
    for leaf in outside:
        key = f"leaf:{leaf.name}"
        kind = "starved" if leaf.requires_grad else "frozen"  # no path to the output
        lines = _leaf_lines(leaf, graph, None, lang)
        boxes.append(_Box(key, kind, lines, leaf.requires_grad))
        if leaf.requires_grad:
            edges += [(f"cut{c}", key, "lost") for c in leaf.cut_by if f"cut{c}" in cut_keys]
        else:
            edges += [
                (f"n{node.id}", key, "saved")
                for node in graph.nodes
                if any(s.refers_to == leaf.name for s in node.saved)
            ]
    return boxes, edges


def _output_lines(graph: AutogradGraph, lang: str) -> tuple[PictureLine, ...]:
    out = graph.output
    lines = [PictureLine(f"{translate('output', lang)} {_tensor(out)}", "title")]
    if out.values is not None or out.norm is not None:
        lines += _labelled("=", out, "plain")
    if graph.output_grad_fn:
        lines.append(PictureLine(f"grad_fn={graph.output_grad_fn}", "dim"))
    elif graph.output_leaf is not None:
        said = translate(
            "no graph: the output is the input {name} itself", lang, name=graph.output_leaf
        )
        lines.append(PictureLine(said))
    else:
        said = translate("no grad_fn: the output does not require grad", lang)
        lines.append(PictureLine(said, "alert"))
    return tuple(lines)


def _node_box(
    node: GraphNode, graph: AutogradGraph, leaves: dict[str, Leaf], gradients: bool, lang: str
) -> _Box:
    key = f"n{node.id}"
    if node.leaf is not None:
        leaf = leaves.get(node.leaf)
        if leaf is not None:
            return _Box(key, "leaf", _leaf_lines(leaf, graph, node, lang, gradients))
        return _Box(key, "leaf", (PictureLine(node.leaf, "title"), PictureLine(_node_title(node))))
    lines = [PictureLine(_node_title(node), "title")]
    if node.outputs:
        lines.append(PictureLine(_clip("→ " + ", ".join(_tensor(t) for t in node.outputs))))
    for saved in node.saved:
        said = translate(
            "saved {name}: {value}", lang, name=saved.name, value=_saved(saved, graph, lang)
        )
        if saved.written is not None:
            where = _at(graph.cuts[saved.written].location, lang)
            changed = translate("✎ changed through .data{where}", lang, where=where)
            lines.append(PictureLine(_clip(said)))
            lines.append(PictureLine(_clip(changed), "alert"))
        elif saved.tensor is not None or _plain_number(saved):
            lines.append(PictureLine(_clip(said), "dim"))
    alert = any(s.written is not None for s in node.saved)
    return _Box(key, "node", tuple(lines), alert)


def _node_title(node: GraphNode) -> str:
    return f"#{node.id} {node.name}"


def _leaf_lines(
    leaf: Leaf, graph: AutogradGraph, node: GraphNode | None, lang: str, gradients: bool = True
) -> tuple[PictureLine, ...]:
    lines = [PictureLine(f"{leaf.name} {_tensor(leaf.tensor)}", "title")]
    if node is not None:
        said = f"{_node_title(node)} · {translate('leaf, requires_grad', lang)}"
        lines.append(PictureLine(said, "dim"))
    elif leaf.requires_grad:
        lines.append(PictureLine(translate("leaf, requires_grad, not in the graph", lang), "dim"))
    else:
        lines.append(PictureLine(translate("leaf, requires_grad=False (frozen)", lang), "dim"))
    lines += _labelled(translate("value", lang), leaf.tensor, "plain")
    if not leaf.requires_grad or not gradients:
        return tuple(lines)
    grad = translate("grad", lang)
    if graph.backward_error is not None:
        lines.append(PictureLine(f"{grad} {translate('? (backward failed)', lang)}", "alert"))
    elif graph.backward_skipped:
        lines.append(PictureLine(f"{grad} {translate('— (no backward pass)', lang)}", "dim"))
    elif leaf.grad is not None:
        lines += _labelled(grad, leaf.grad, "good")
    elif leaf.cut_by:
        cuts = "; ".join(cut_words(graph.cuts[i].kind, lang) for i in leaf.cut_by)
        said = translate("✗ no gradient: cut by {cuts}", lang, cuts=cuts)
        lines.append(PictureLine(_clip(said), "alert"))
    else:
        said = translate("✗ no gradient: not connected to the output", lang)
        lines.append(PictureLine(_clip(said), "alert"))
    return tuple(lines)


def _cut_lines(cut: Cut, lang: str) -> tuple[PictureLine, ...]:
    title = translate("✂ cut by {what}", lang, what=cut_words(cut.kind, lang))
    lines = [PictureLine(title, "title")]
    if cut.location:
        lines.append(PictureLine(_clip(translate("at {location}", lang, location=cut.location))))
    if cut.code:
        lines.append(PictureLine(_clip(cut.code), "dim"))
    who = ", ".join(cut.leaves) or translate("its inputs", lang)
    said = translate("no gradient flows back to {who} this way", lang, who=who)
    lines.append(PictureLine(_clip(said), "alert"))
    return tuple(lines)


def _footer(graph: AutogradGraph, boxes: int, lang: str) -> list[tuple[str, str]]:
    lines = [(translate("backward: {how}", lang, how=_said(graph.backward, lang)), "plain")]
    if graph.backward_error is not None:
        said = translate("backward failed: {error}", lang, error=graph.backward_error)
        lines.append((said, "alert"))
    for index in sorted({s.written for s in graph.corrupted_saved if s.written is not None}):
        said = translate(
            "✎ a tensor saved for backward was changed through .data{where}: "
            "backward used the changed values, so the gradients are wrong",
            lang,
            where=_at(graph.cuts[index].location, lang),
        )
        lines.append((said, "alert"))
    starved = graph.starved_leaves
    if starved:
        names = ", ".join(leaf.name for leaf in starved)
        said = translate(
            "leaves that require grad but received no gradient: {names}", lang, names=names
        )
        lines.append((said, "alert"))
    lines += [(_note(note, lang), "dim") for note in graph.notes]
    count = len(graph.nodes)
    nodes = translate(N_("{count} node") if count == 1 else N_("{count} nodes"), lang, count=count)
    lines.append((translate("{nodes}, all drawn", lang, nodes=nodes), "dim"))
    if boxes > LARGE:
        said = translate(
            "a large graph ({count} boxes): zoom in; the tree (gradx graph without --save) "
            "folds repeated layers",
            lang,
            count=boxes,
        )
        lines.append((said, "dim"))
    return lines


def _edge_kinds(edges: Sequence[PictureEdge]) -> set[str]:
    """The kinds of edges drawn; a starved leaf's edge is explained with the cut's."""
    return {"cut" if edge.kind == "lost" else edge.kind for edge in edges}


def _legend(kinds: set[str], lang: str) -> list[tuple[str, str]]:
    return [(translate(LEGEND[kind], lang), "dim") for kind in LEGEND if kind in kinds]


def _said(text: object, lang: str) -> str:
    """A sentence of the model in ``lang``: a string, a ``Phrase``, or several of them (joined
    with ``; ``, as the JSON does, or ``；`` in Chinese, as the tree does)."""
    if isinstance(text, tuple | list):
        return ("；" if lang == "zh" else "; ").join(_said(part, lang) for part in text)
    return text.in_lang(lang) if isinstance(text, Phrase) else str(text)


def _note(note: object, lang: str) -> str:
    return translate("note: {note}", lang, note=_said(note, lang))


def _at(location: str, lang: str) -> str:
    """`` at script.py:12`` (nothing when the line is unknown), as the tree says it."""
    return translate(" at {location}", lang, location=location) if location else ""


def _saved(saved: SavedValue, graph: AutogradGraph, lang: str) -> str:
    if saved.tensor is None:
        return saved.text
    if saved.cut is not None:
        said = translate("(cut by {what})", lang, what=cut_words(graph.cuts[saved.cut].kind, lang))
        return f"{_values(saved.tensor)} {said}"
    if saved.refers_to == "constant" and saved.tensor.values is not None:
        return f"{_values(saved.tensor)} {translate('(constant)', lang)}"
    if saved.refers_to:
        return f"{saved.refers_to} {_shape(saved.tensor.shape)}"
    return _tensor(saved.tensor)


def _plain_number(saved: SavedValue) -> bool:
    """Numbers worth a glance (``exponent=2``), as the tree shows them; sizes are noise."""
    if saved.name in ("alpha", "beta"):
        return False
    try:
        float(saved.text)
    except ValueError:
        return False
    return True


def _size(lines: Sequence[PictureLine]) -> tuple[float, float]:
    width = max(_text_width(line.text) for line in lines) + 2 * PAD_X
    return _round(width), _round(len(lines) * LINE_HEIGHT + 2 * PAD_Y)


def _text_width(text: str) -> float:
    """Pixels of monospace text: two cells for a wide character (CJK), none for a combining one."""
    return _cells(text) * CHAR_WIDTH * FONT_SIZE


def _cells(text: str) -> int:
    """Terminal cells of ``text``: two for a wide character (CJK), none for a combining one."""
    cells = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        cells += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return cells


def _flat(text: str) -> str:
    """One printable line: a line break or tab inside a message or a name becomes a space, a
    control character or a lone surrogate (an undecodable file name) becomes U+FFFD."""
    line = " ".join(text.replace("\t", " ").splitlines()) if text else text
    return UNPRINTABLE.sub("\ufffd", line)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def _round(value: float) -> float:
    return round(value, 1)


def _tensor(info: TensorInfo) -> str:
    return f"{fmt_shape(info.shape)} {info.dtype}"


def _shape(shape: Sequence[int]) -> str:
    return fmt_shape(shape)


def _labelled(label: str, info: TensorInfo, style: str) -> list[PictureLine]:
    """``value 3``, or a small matrix one row per line, its columns aligned, as the tree's table
    shows it: ``value [[1, 2],`` / ``       [3, 4]]``."""
    if info.values is None or len(info.shape) != 2 or not 1 < info.shape[0] <= MATRIX_ROWS:
        return [PictureLine(_clip(f"{label} {_values(info)}"), style)]
    numbers = [fmt_value(v, 6) for v in info.values]
    width = max(len(n) for n in numbers)
    cols = info.shape[1]
    rows = [
        ", ".join(n.rjust(width) for n in numbers[r * cols : (r + 1) * cols])
        for r in range(info.shape[0])
    ]
    indent = " " * (_cells(label) + 1)  # a Chinese label is two cells a character
    texts = [f"{label} [[{rows[0]}],"]
    texts += [f"{indent} [{row}]," for row in rows[1:-1]]
    texts.append(f"{indent} [{rows[-1]}]]")
    return [PictureLine(_clip(text), style) for text in texts]


def _values(info: TensorInfo) -> str:
    return fmt_tensor_values(info.values, info.norm, info.shape)
