"""``gradx graph --dot FILE``: the whole backward graph as Graphviz DOT text.

Colours follow torchviz: backward nodes grey, leaves that require grad light blue, saved tensors
orange, the output green, cuts red. Edges point the way the forward computation went (input to
operation). Producing the text needs no graphviz; drawing it does (``dot -Tsvg FILE``).
"""

from __future__ import annotations

from gradx.commands.graph.model import AutogradGraph, TensorInfo
from gradx.graph_words import CUT_WORDS


def dot_source(graph: AutogradGraph) -> str:
    """The DOT text of the graph (every node: nothing is folded in a file)."""
    lines = [
        "digraph autograd {",
        f"  label={_quote('gradx graph ' + graph.title)};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        f"  output [label={_quote('output ' + _tensor(graph.output))}, fillcolor=darkolivegreen1];",
    ]
    if graph.root is not None:
        lines.append(f"  n{graph.root} -> output;")
    for node in graph.nodes:
        if node.leaf is not None:
            label = f"{node.leaf}\n{_tensor(node.outputs[0]) if node.outputs else ''}"
            lines.append(f"  n{node.id} [label={_quote(label)}, fillcolor=lightblue];")
        else:
            shapes = ", ".join(_tensor(t) for t in node.outputs)
            lines.append(
                f"  n{node.id} [label={_quote(f'#{node.id} {node.name}' + chr(10) + shapes)}, "
                "fillcolor=lightgrey];"
            )
        for child in node.inputs:
            if child is not None:
                lines.append(f"  n{child} -> n{node.id};")
        for k, saved in enumerate(node.saved):
            if saved.tensor is None:
                continue
            label = f"saved {saved.name}\n{_tensor(saved.tensor)}"
            if saved.refers_to:
                label += f"\n= {saved.refers_to}"
            lines.append(f"  s{node.id}_{k} [label={_quote(label)}, fillcolor=orange];")
            lines.append(f"  s{node.id}_{k} -> n{node.id} [style=dashed, arrowhead=none];")
        for cut_index in node.cuts:
            lines.append(f"  cut{cut_index} -> n{node.id} [color=red];")
    for index, cut in enumerate(graph.cuts):
        where = f" at {cut.location}" if cut.location else ""
        label = f"cut by {CUT_WORDS.get(cut.kind, cut.kind)}{where}"
        if cut.code:
            label += f"\n{cut.code}"
        lines.append(f"  cut{index} [label={_quote(label)}, fillcolor=salmon, shape=note];")
    for leaf in graph.leaves:
        if leaf.requires_grad and not leaf.in_graph:
            label = f"{leaf.name}\n{_tensor(leaf.tensor)}\nreceives no gradient"
            lines.append(f"  leaf_{_ident(leaf.name)} [label={_quote(label)}, fillcolor=pink];")
            for index in leaf.cut_by:
                lines.append(f"  leaf_{_ident(leaf.name)} -> cut{index} [color=red, style=dotted];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _tensor(info: TensorInfo) -> str:
    shape = (
        "(" + ", ".join(str(n) for n in info.shape) + ("," if len(info.shape) == 1 else "") + ")"
    )
    return f"{shape} {info.dtype}"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)
