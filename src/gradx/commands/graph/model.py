"""The autograd graph as plain frozen dataclasses (no tensors): what ``gradx graph`` shows.

Nodes are torch's backward functions (``grad_fn``), numbered in the order a depth-first walk from
the output meets them; ``inputs`` lists, like ``grad_fn.next_functions``, the node each input's
gradient goes to (``None``: an input that needs no gradient, such as a constant).
"""

from __future__ import annotations

from dataclasses import dataclass

from gradx.translations import Phrase


@dataclass(frozen=True)
class TensorInfo:
    """Shape and dtype of a tensor, and its values when it is small."""

    shape: tuple[int, ...]
    dtype: str  # "float64", as torch spells it without "torch."
    values: tuple[float, ...] | None = None  # flattened; only for tensors of few elements
    norm: float | None = None  # for larger tensors: their 2-norm


@dataclass(frozen=True)
class SavedValue:
    """One ``_saved_*`` attribute of a backward node: what backward will need."""

    name: str  # "self", "other", "result"... (the attribute without "_saved_")
    tensor: TensorInfo | None  # None for a non-tensor (a number, a size, None)
    refers_to: str  # the leaf's name, "#3" (the output of node 3), "constant", "cut" or ""
    text: str  # the value of a non-tensor, shortened
    cut: int | None = None  # for a cut tensor: its index in AutogradGraph.cuts
    written: int | None = None  # changed through .data after it was saved: AutogradGraph.cuts


@dataclass(frozen=True)
class Cut:
    """A place where the graph was cut: a tensor that requires grad turned into one that doesn't."""

    # "detach", "data", "no_grad", "item", "tolist", "numpy", "non-differentiable", or
    # "data-write": an in-place change through .data (of a tensor backward may have saved)
    kind: str
    location: str  # "script.py:12", or "" when unknown
    code: str  # that line of source, stripped
    leaves: tuple[str, ...]  # the leaves whose gradient path was cut here


@dataclass(frozen=True)
class GraphNode:
    """One backward function of the graph."""

    id: int
    name: str  # "MulBackward0", "AccumulateGrad"...
    outputs: tuple[TensorInfo, ...]  # what the forward operation produced
    saved: tuple[SavedValue, ...]
    inputs: tuple[int | None, ...]
    leaf: str | None  # for AccumulateGrad: the name of the leaf tensor it accumulates into
    cuts: tuple[int, ...]  # indices into AutogradGraph.cuts: cut tensors this operation used


@dataclass(frozen=True)
class Leaf:
    """An input tensor of the computation: does it require grad, and what gradient reached it."""

    name: str
    tensor: TensorInfo
    requires_grad: bool
    in_graph: bool  # reached from the output through the graph
    grad: TensorInfo | None  # after backward; None when no gradient arrived (or no backward)
    cut_by: tuple[int, ...]  # indices into AutogradGraph.cuts


@dataclass(frozen=True)
class AutogradGraph:
    """The backward graph of one output, its leaves, where it was cut, and how backward went."""

    title: str  # the expression, or script.py::NAME
    output: TensorInfo
    output_grad_fn: str | None  # None: the output does not require grad
    root: int | None  # id of the output's grad_fn node
    nodes: tuple[GraphNode, ...]  # nodes[i].id == i
    leaves: tuple[Leaf, ...]
    cuts: tuple[Cut, ...]
    # How backward was called, or why it was not: sentences in no language yet (the renderer
    # gives them one; JSON joins their English with "; ").
    backward: tuple[Phrase, ...]
    backward_error: str | None  # the error backward raised, if any
    notes: tuple[Phrase, ...] = ()  # how the inputs were chosen, and the like
    backward_skipped: bool = False  # --no-backward: no gradients were asked for
    printed: tuple[str, ...] = ()  # what the user's file printed (FILE::NAME), kept apart

    @property
    def backward_text(self) -> str:
        """How backward was called, in English (the JSON's ``backward``)."""
        return "; ".join(str(part) for part in self.backward)

    @property
    def corrupted_saved(self) -> tuple[SavedValue, ...]:
        """Saved tensors changed through ``.data`` after the forward saved them."""
        return tuple(s for node in self.nodes for s in node.saved if s.written is not None)

    @property
    def starved_leaves(self) -> tuple[Leaf, ...]:
        """Leaves that require grad but received no gradient."""
        if self.backward_error is not None or self.backward_skipped:
            return ()  # what backward would have delivered is unknown
        return tuple(leaf for leaf in self.leaves if leaf.requires_grad and leaf.grad is None)

    @property
    def output_leaf(self) -> str | None:
        """The name of the input the output *is* (``gradx graph x``), else None."""
        if self.root is not None:
            return None
        return next((leaf.name for leaf in self.leaves if leaf.in_graph), None)

    @property
    def exit_ok(self) -> bool:
        """True when backward ran and every leaf that requires grad got a gradient."""
        connected = self.root is not None or self.output_leaf is not None
        return (
            self.backward_error is None
            and connected
            and not self.starved_leaves
            and not self.corrupted_saved
        )


@dataclass(frozen=True)
class ViewItem:
    """One line of the tree view.

    ``kind`` is ``node`` (a node shown with its inputs below it), ``ref`` (a node already shown
    above), ``fold`` (repeats of the structure just shown, hidden), ``more`` (nodes below
    ``--depth``) or ``cut`` (a cut tensor this node used).
    """

    kind: str
    node: int | None = None
    children: tuple[ViewItem, ...] = ()
    hidden: int = 0  # nodes hidden by a fold or by --depth
    repeats: int = 0  # for a fold: how many more times the pattern repeats
    pattern: tuple[str, ...] = ()  # for a fold: the node names of one repeat
    cut: int | None = None


@dataclass(frozen=True)
class GraphView:
    """The tree to print, with how many nodes it shows and hides."""

    root: ViewItem | None
    total: int
    shown: int
    folded: int
    below_depth: int
    depth: int | None


@dataclass(frozen=True)
class OrderStep:
    """One order of ``gradx graph EXPR --order N``: the k-th derivative and what building it cost.

    Order 0 is f itself (its forward pass). For k >= 1 the k-th derivative was computed with
    ``torch.autograd.grad(..., create_graph=True)`` from the (k-1)-th, which records a graph of
    its own on top of the one before.
    """

    order: int
    graph: AutogradGraph  # the graph behind the k-th derivative (backward not run on it)
    nodes: int  # grad_fn nodes reachable from it: this order's graph and all below it
    saved_tensors: int  # tensors this pass saved for a later backward
    saved_bytes: int
    seconds: float  # wall time of this pass (display only)


@dataclass(frozen=True)
class HigherOrderGraphs:
    """The graphs of f, f', f'', ... along one variable, for seeing why higher orders cost more."""

    title: str  # the expression, or file.py::NAME
    variable: str
    steps: tuple[OrderStep, ...]
    stopped: Phrase | None = None  # why the chain stopped before the order asked for
    failed: bool = False  # a backward raised (exit 1), rather than a derivative being constant
    notes: tuple[Phrase, ...] = ()  # how the inputs were chosen, how f' was seeded
    grad_outputs: str | None = None  # --gradient: the vector f' was taken against, as text
    printed: tuple[str, ...] = ()  # what the user's file printed (FILE::NAME), kept apart

    @property
    def exit_ok(self) -> bool:
        """True unless computing a derivative failed."""
        return not self.failed


@dataclass(frozen=True)
class PictureLine:
    """One line of text in a box of the picture; ``style`` is ``title``, ``plain``, ``dim``,
    ``good`` (a gradient) or ``alert`` (no gradient, a changed saved tensor)."""

    text: str
    style: str = "plain"


@dataclass(frozen=True)
class PictureBox:
    """A box of ``gradx graph --save``, placed: its top-left corner, size and layer (0 at the top).

    ``kind`` is ``output``, ``node`` (a grad_fn), ``leaf`` (AccumulateGrad: a leaf that requires
    grad), ``frozen`` (a leaf with requires_grad=False), ``starved`` (a leaf that requires grad
    but got no gradient) or ``cut`` (where ``.detach()``, ``.data``, ``no_grad``... cut the graph).
    """

    key: str  # "output", "n3" (node 3), "cut0", "leaf:y"
    kind: str
    lines: tuple[PictureLine, ...]
    x: float
    y: float
    width: float
    height: float
    layer: int
    alert: bool = False  # a tensor this node saved was changed through .data


@dataclass(frozen=True)
class PictureEdge:
    """A line from an upper box down to a lower one, through ``points`` (y only grows).

    ``kind``: ``input`` (the way backward sends a gradient: from a node to one of its inputs),
    ``cut`` (a node to the cut it used), ``lost`` (a cut to the leaf whose gradient it stopped)
    or ``saved`` (a node to a frozen leaf it saved: no gradient flows).
    """

    source: str
    target: str
    kind: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PictureText:
    """A line of text outside the boxes (the title, notes below the graph); ``y`` is its top."""

    x: float
    y: float
    text: str
    style: str = "plain"


@dataclass(frozen=True)
class GraphPicture:
    """The whole picture, laid out in pixels: what ``gradx.render.graph_picture`` draws as it is.

    Text is monospace: a character is ``CHAR_WIDTH`` font sizes wide (two for a wide one).
    """

    width: float
    height: float
    boxes: tuple[PictureBox, ...]
    edges: tuple[PictureEdge, ...]
    texts: tuple[PictureText, ...]
    font_size: float  # px
    line_height: float  # px
    padding: tuple[float, float]  # inside a box: left of its text, above its first line
    lang: str = "en"  # the language of its words: the renderer picks fonts that draw it


@dataclass(frozen=True)
class GraphReport:
    """``gradx graph``'s result: the graph, and the folded tree of it to show (``--depth``)."""

    graph: AutogradGraph
    view: GraphView
    picture: GraphPicture | None = None  # --save: the whole graph laid out

    @property
    def exit_ok(self) -> bool:
        """True when backward ran and every leaf that requires grad got a gradient."""
        return self.graph.exit_ok


@dataclass(frozen=True)
class OrdersReport:
    """``gradx graph EXPR --order K``'s result: the graphs of f, f', ..., and the tree of each."""

    orders: HigherOrderGraphs
    views: tuple[GraphView, ...]  # one per step
    picture: GraphPicture | None = None  # --save: the graphs side by side

    @property
    def exit_ok(self) -> bool:
        """True unless computing a derivative failed."""
        return self.orders.exit_ok
