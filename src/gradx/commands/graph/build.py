"""Run a computation, watch where it cuts the graph, walk ``grad_fn`` from its output, backward.

``trace_graph`` is shared by expressions and scripts: it runs ``compute`` under a torch function
mode that notices every operation turning a tensor that requires grad into one that doesn't
(``.detach()``, ``.data``, ``torch.no_grad()``), then walks ``grad_fn.next_functions`` from the
output (as torchviz does), reads each node's ``_saved_*`` attributes and output metadata, runs
one backward pass and records the gradient that reached every leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch

from gradx.commands.graph.model import AutogradGraph, Cut, GraphNode, Leaf, SavedValue, TensorInfo
from gradx.text import first_line
from gradx.translations import Phrase, phrase
from gradx.user_script.cuts import CutWatcher as _CutWatcher
from gradx.user_script.cuts import storage as _storage

Tensor = torch.Tensor
SMALL = 16  # tensors with at most this many elements show their values (a 4x4 matrix)
SAVED_PREFIX = "_saved_"


def trace_graph(
    title: str,
    compute: Callable[[], Any],
    leaves: Mapping[str, Tensor],
    *,
    source_file: str | None = None,
    backward: bool = True,
    notes: Iterable[Phrase] = (),
    local_names: Mapping[int, str] | None = None,
    gradient: Any = None,
    printed: Sequence[str] = (),
) -> AutogradGraph:
    """Run ``compute`` (which uses ``leaves``), then describe its output's backward graph.

    ``source_file`` names the file whose lines locate the cuts (the user's script);
    ``local_names`` (filled while ``compute`` runs) names leaves by ``id`` that the
    computation created itself.
    """
    watcher = _CutWatcher(source_file)
    with watcher:
        result = compute()
    output, how = pick_output(result)
    walk = _Walk(leaves, local_names or {})
    root = walk.visit_all(output.grad_fn) if output.grad_fn is not None else None
    cuts = [
        Cut(c.kind, c.location, c.code, tuple(dict.fromkeys(walk.leaf_name(t) for t in c.leaves)))
        for c in watcher.cuts
    ]
    nodes = tuple(walk.nodes(watcher))  # before backward, which frees the saved tensors
    backward_text, error = _run_backward(output, backward, gradient)
    return AutogradGraph(
        title=title,
        output=tensor_info(output),
        output_grad_fn=_node_name(output.grad_fn) if output.grad_fn is not None else None,
        root=root,
        nodes=nodes,
        leaves=tuple(_leaves(walk, cuts, output)),
        cuts=tuple(cuts),
        backward=(how, backward_text) if how else (backward_text,),
        backward_error=error,
        notes=tuple(notes),
        backward_skipped=not backward,
        printed=tuple(printed),
    )


def tensor_info(t: Tensor) -> TensorInfo:
    """Shape, dtype and (for a few elements) the values of a tensor."""
    shape = tuple(int(n) for n in t.shape)
    dtype = str(t.dtype).removeprefix("torch.")
    data = t.detach()
    if data.is_complex() or data.dtype == torch.bool or data.device.type == "meta":
        return TensorInfo(shape, dtype)
    data = data.to(torch.float64)
    if data.numel() <= SMALL:
        return TensorInfo(shape, dtype, values=tuple(float(v) for v in data.flatten().tolist()))
    norm = float(torch.linalg.vector_norm(data.to(torch.float64)))
    return TensorInfo(shape, dtype, norm=norm)


def pick_output(result: Any) -> tuple[Tensor, Phrase | None]:
    """The tensor to differentiate: the result, or the first tensor of a tuple/list/dict."""
    if isinstance(result, Tensor):
        return result, None
    items: Iterable[Any] = ()
    if isinstance(result, (tuple, list)):
        items = result
    elif isinstance(result, dict):
        items = result.values()
    for item in items:
        if isinstance(item, Tensor):
            return item, phrase(
                "the result is a {type}: its first tensor is the output",
                type=type(result).__name__,
            )
    from gradx.errors import GradxError

    raise GradxError(
        f"the function returned {type(result).__name__}, not a tensor: "
        "return the tensor to differentiate (a loss, or any output)"
    )


def _run_backward(output: Tensor, enabled: bool, given: Any = None) -> tuple[Phrase, str | None]:
    if not enabled:
        return phrase("no backward pass (--no-backward)"), None
    if output.grad_fn is None and output.requires_grad and output.is_leaf:
        # The output is an input itself (``gradx graph x``): its gradient is one, d x / d x.
        try:
            output.backward(torch.ones_like(output))
        except RuntimeError as exc:  # pragma: no cover - a leaf's backward cannot fail
            return phrase("output.backward()"), str(exc).strip().splitlines()[0]
        return (
            phrase("output.backward(): the output is a leaf itself, so its gradient is one"),
            None,
        )
    if output.grad_fn is None:
        return (
            phrase(
                "no backward pass: the output does not require grad "
                "(nothing connects it to an input that requires grad)"
            ),
            None,
        )
    if not output.is_floating_point() and not output.is_complex():
        return (
            phrase(
                "no backward pass: the output is {dtype}, not a floating tensor",
                dtype=output.dtype,
            ),
            None,
        )
    if given is not None:
        from gradx.errors import GradxError

        values = torch.as_tensor(given, dtype=output.dtype)
        if values.numel() != output.numel():
            raise GradxError(
                f"--gradient has {values.numel()} value(s) but the output has shape "
                f"{tuple(output.shape)} ({output.numel()} elements): give one per element"
            )
        gradient = values.reshape(output.shape)
        text = phrase(
            "output.backward(gradient={gradient}) (--gradient)", gradient=_plain_list(gradient)
        )
    elif output.numel() == 1:
        text = phrase("output.backward()")
        gradient = None
    else:
        text = phrase(
            "output.backward(gradient=torch.ones_like(output)): the output has {count} "
            "elements, not one, so each leaf gets the gradient of output.sum()",
            count=output.numel(),
        )
        gradient = torch.ones_like(output)
    try:
        output.backward(gradient)
    except RuntimeError as exc:
        first = first_line(exc) or type(exc).__name__
        return text, first
    return text, None


def _plain_list(t: Tensor) -> str:
    from gradx.text import fmt_value

    def show(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return fmt_value(float(value), 6)

    return show(t.tolist())


class _Walk:
    """Depth-first walk of ``next_functions``; numbers nodes in the order it meets them."""

    def __init__(self, leaves: Mapping[str, Tensor], local_names: Mapping[int, str]) -> None:
        self.leaves: list[tuple[str, Tensor]] = list(leaves.items())
        self.leaf_names = {id(t): name for name, t in leaves.items()}
        self.local_names = local_names
        self.ids: dict[int, int] = {}
        self.functions: list[Any] = []  # keeps every node alive, so id() stays unique
        self.cut_of: Mapping[int, int] = {}
        self.writes: Mapping[int, int] = {}

    def visit_all(self, root_fn: Any) -> int:
        """Number every node reachable from ``root_fn`` (iteratively: graphs can be deep)."""
        stack = [root_fn]
        while stack:
            fn = stack.pop()
            if id(fn) in self.ids:
                continue
            self.ids[id(fn)] = len(self.functions)
            self.functions.append(fn)
            children = [child for child, _ in fn.next_functions if child is not None]
            stack.extend(reversed(children))
        return 0

    def nodes(self, watcher: _CutWatcher) -> Iterable[GraphNode]:
        """The nodes met, in order, described."""
        self.cut_of = watcher.cut_of
        self.writes = watcher.data_writes
        for index, fn in enumerate(self.functions):
            leaf_name = None
            variable = getattr(fn, "variable", None)
            if isinstance(variable, Tensor):
                leaf_name = self.leaf_name(variable)
            yield GraphNode(
                id=index,
                name=_node_name(fn),
                outputs=tuple(_outputs(fn)),
                saved=tuple(self._saved(fn)),
                inputs=tuple(
                    self.ids[id(child)] if child is not None else None
                    for child, _ in fn.next_functions
                ),
                leaf=leaf_name,
                cuts=tuple(dict.fromkeys(watcher.used_cuts.get(id(fn), ()))),
            )

    def leaf_name(self, tensor: Tensor) -> str:
        """The caller's name for a leaf; leaves nobody named get ``leaf1``, ``leaf2``..."""
        name = self.leaf_names.get(id(tensor))
        if name is None:
            taken = set(self.leaf_names.values())
            name = self.local_names.get(id(tensor))
            if name is None or name in taken:
                number = sum(1 for n in taken if n.startswith("leaf")) + 1
                name = f"leaf{number}"
            self.leaf_names[id(tensor)] = name
            self.leaves.append((name, tensor))
        return name

    def _saved(self, fn: Any) -> Iterable[SavedValue]:
        for attr in sorted(a for a in dir(fn) if a.startswith(SAVED_PREFIX)):
            try:
                value = getattr(fn, attr)
            except RuntimeError:  # freed by an earlier backward
                yield SavedValue(attr.removeprefix(SAVED_PREFIX), None, "", "(freed)")
                continue
            name = attr.removeprefix(SAVED_PREFIX)
            if isinstance(value, Tensor):
                cut = self.cut_of.get(id(value))
                refers_to = "cut" if cut is not None else self._refers_to(value)
                written = self.writes.get(_storage(value))
                yield SavedValue(name, tensor_info(value), refers_to, "", cut, written)
            elif value is not None:
                yield SavedValue(name, None, "", _short_text(value))

    def _refers_to(self, tensor: Tensor) -> str:
        if tensor.requires_grad and tensor.grad_fn is None:
            tensor = _original_leaf(tensor)
        if id(tensor) in self.leaf_names:
            return self.leaf_names[id(tensor)]
        if tensor.grad_fn is not None and id(tensor.grad_fn) in self.ids:
            return f"#{self.ids[id(tensor.grad_fn)]}"
        if tensor.requires_grad and tensor.grad_fn is None:
            return self.leaf_name(tensor)
        return "constant"


def _original_leaf(tensor: Tensor) -> Tensor:
    """The leaf a saved tensor stands for. Read back through ``saved_tensors_hooks`` (which
    ``gradx graph --order`` counts saved tensors with) a saved leaf is a new tensor object; its
    gradient edge still ends in the leaf's own AccumulateGrad node, which holds the leaf."""
    try:
        variable = getattr(torch.autograd.graph.get_gradient_edge(tensor).node, "variable", None)
    except RuntimeError:
        return tensor
    return variable if isinstance(variable, Tensor) else tensor


def _node_name(fn: Any) -> str:
    """``MulBackward0``, ``AccumulateGrad``: the names torch users see."""
    # C++ nodes name themselves "torch::autograd::AccumulateGrad"; users know the class name.
    return type(fn).__name__ if "::" in fn.name() else fn.name()


def _outputs(fn: Any) -> Iterable[TensorInfo]:
    for meta in getattr(fn, "_input_metadata", ()):
        yield TensorInfo(tuple(int(n) for n in meta.shape), str(meta.dtype).removeprefix("torch."))


def _short_text(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _leaves(walk: _Walk, cuts: Sequence[Cut], output: Tensor) -> Iterable[Leaf]:
    reached = {
        id(fn.variable)
        for fn in walk.functions
        if isinstance(getattr(fn, "variable", None), Tensor)
    }
    reached.add(id(output))  # an output that is a leaf itself is in its own graph
    for name, tensor in walk.leaves:
        grad = tensor.grad if tensor.requires_grad and tensor.is_leaf else None
        yield Leaf(
            name=name,
            tensor=tensor_info(tensor),
            requires_grad=tensor.requires_grad,
            in_graph=id(tensor) in reached,
            grad=tensor_info(grad) if grad is not None else None,
            cut_by=tuple(i for i, cut in enumerate(cuts) if name in cut.leaves),
        )
