"""``gradx graph EXPR --order N`` (or ``FILE.py::NAME --order N``): the graphs that
``create_graph=True`` builds, order by order.

The k-th derivative is ``torch.autograd.grad(d_{k-1}.sum(), x, create_graph=True)`` (for the
first, ``--gradient`` may give the vector instead of ``.sum()``); x is the expression's first
variable, or the target's first floating input. Autograd
records the backward pass itself as a new graph, which references the graphs below it. Each
pass is timed and its saved tensors are counted through ``saved_tensors_hooks`` (what the next
order's backward will need, and what stays in memory while the graph lives).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from gradx.commands.graph.model import HigherOrderGraphs, OrderStep
from gradx.commands.graph.sources import (
    MAX_PRINTED,
    ScriptCall,
    gradient_values,
    prepare_expression_call,
    prepare_script_call,
)
from gradx.errors import GradxError
from gradx.expression.vocabulary import MAX_ORDER
from gradx.text import first_line
from gradx.translations import Phrase, phrase


def derivative_graphs(
    expression: str,
    at: Sequence[str],
    dtype: str = "float64",
    order: int = 2,
    gradient: str | None = None,
    frozen: Sequence[str] = (),
) -> HigherOrderGraphs:
    """f and its derivatives up to ``order`` along the first variable, each with its graph.

    ``gradient`` (``--gradient``) is the vector f' is taken against when f is not a scalar
    (by default ones: the gradient of f.sum()); ``frozen`` variables are constants
    (``requires_grad=False``), and the first other one is differentiated along.
    """
    check_order(order)
    call = prepare_expression_call(expression, at, dtype, frozen=frozen, gradient=gradient)
    wanted = [name for name in call.leaves if name not in call.constant]
    if not wanted:
        raise GradxError("every variable is --frozen: there is nothing to differentiate along")
    return _chain(
        expression,
        call.compute,
        call.leaves,
        wanted[0],
        order,
        call.given_gradient,
        notes=call.notes,
    )


def script_derivative_graphs(
    target_text: str,
    at: Sequence[str] = (),
    shapes: Sequence[str] = (),
    dtype: str = "float64",
    order: int = 2,
    gradient: str | None = None,
    frozen: Sequence[str] = (),
) -> HigherOrderGraphs:
    """``derivative_graphs`` for a target of a Python file (``FILE.py::NAME``), called as
    ``gradx check`` calls it, along its first input. What the file prints is kept apart."""
    import contextlib
    import io

    check_order(order)
    given = gradient_values(gradient)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        call = prepare_script_call(target_text, at, shapes, dtype, frozen)
        wanted = [name for name in (*call.inputs, *call.leaves) if _differentiable(call, name)]
        if not wanted:
            raise GradxError(
                f"{call.title} has no floating input or parameter to differentiate along "
                "(that is not --frozen)"
            )
        report = _chain(
            call.title,
            call.compute,
            call.leaves,
            wanted[0],
            order,
            given,
            notes=call.notes,
            local_names=call.local_names,
        )
    lines = tuple(printed.getvalue().splitlines()[-MAX_PRINTED:])
    return replace(report, printed=lines)


def _differentiable(call: ScriptCall, name: str) -> bool:
    leaf = call.leaves[name]
    return bool(leaf.requires_grad and leaf.is_floating_point())


def check_order(order: int) -> None:
    """Refuse an order gradx does not go to (exit 2)."""
    if not 1 <= order <= MAX_ORDER:
        raise GradxError(f"--order must be between 1 and {MAX_ORDER}")


def _chain(
    title: str,
    compute: Callable[[], Any],
    leaves: Mapping[str, Any],
    variable: str,
    order: int,
    given: Any,
    *,
    notes: Sequence[Phrase] = (),
    local_names: Mapping[int, str] | None = None,
) -> HigherOrderGraphs:
    """Run ``compute`` (f), then differentiate it ``order`` times along ``variable`` with
    ``create_graph=True``, recording each pass's graph, saved tensors and time."""
    import torch

    from gradx.commands.graph.build import pick_output, trace_graph

    steps: list[OrderStep] = []
    stopped: Phrase | None = None
    failed = False
    notes = list(notes)

    result, saved, seconds = _counted(compute)
    current, how = pick_output(result)
    if how:
        notes.append(how)
    seed = _seed(current, given, notes)
    for k in range(order + 1):
        if k > 0:
            previous = current
            if not previous.requires_grad:
                stopped = phrase(
                    "{previous} is constant in {variable} (it has no graph): "
                    "{name} and above are 0",
                    previous=_name(k - 1),
                    variable=variable,
                    name=_name(k),
                )
                break
            if not previous.is_floating_point():
                stopped = phrase(
                    "{previous} is {dtype}, not a floating tensor",
                    previous=_name(k - 1),
                    dtype=previous.dtype,
                )
                failed = True
                break

            def differentiate(p: Any = previous, first: bool = k == 1) -> Any:
                outputs, grad_outputs = (p, seed) if first and seed is not None else (p.sum(), None)
                return torch.autograd.grad(
                    outputs,
                    leaves[variable],
                    grad_outputs=grad_outputs,
                    create_graph=True,
                    allow_unused=True,
                )[0]

            try:
                current, saved, seconds = _counted(differentiate)
            except RuntimeError as exc:
                stopped = phrase(
                    "computing {name} failed: {error}", name=_name(k), error=first_line(exc)
                )
                failed = True
                break
            if current is None:  # allow_unused: f did not use the variable at all
                stopped = phrase(
                    "{previous} does not depend on {variable}: {name} is 0",
                    previous=_name(k - 1),
                    variable=variable,
                    name=_name(k),
                )
                break
        graph = trace_graph(
            f"{_name(k)} of {title}",
            _returning(current),
            leaves,
            backward=False,
            local_names=local_names if k == 0 else None,
        )
        steps.append(OrderStep(k, graph, len(graph.nodes), saved[0], saved[1], seconds))
    return HigherOrderGraphs(
        title,
        variable,
        tuple(steps),
        stopped,
        failed,
        notes=tuple(notes),
        grad_outputs=_plain(seed) if seed is not None else None,
    )


def _seed(output: Any, given: Any, notes: list[Phrase]) -> Any:
    """The vector f' is taken against (``--gradient``), or None for f.sum(); says which."""
    import torch

    if given is None:
        if output.numel() != 1:
            notes.append(
                phrase(
                    "f has {count} elements, not one: f' is the gradient of f.sum() "
                    "(--gradient gives another vector)",
                    count=output.numel(),
                )
            )
        return None
    # autograd.grad imports this (a quarter of a second) the first time it checks grad_outputs:
    # imported here, it does not count as the time of the first backward.
    import torch.fx.experimental.symbolic_shapes  # noqa: F401

    values = torch.as_tensor(given, dtype=output.dtype)
    if values.numel() != output.numel():
        raise GradxError(
            f"--gradient has {values.numel()} value(s) but f has shape {tuple(output.shape)} "
            f"({output.numel()} elements): give one per element"
        )
    notes.append(
        phrase(
            "f' is the gradient of (f * v).sum() for v = --gradient {values}",
            values=_plain(values),
        )
    )
    return values.reshape(output.shape)


def _plain(t: Any) -> str:
    from gradx.text import fmt_value

    def show(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return fmt_value(float(value), 6)

    return show(t.tolist())


def _counted(compute: Any) -> tuple[Any, tuple[int, int], float]:
    """Run ``compute``; count the tensors autograd saves meanwhile, their bytes, the time."""
    import torch

    count = 0
    size = 0
    seen: set[int] = set()

    def pack(tensor: Any) -> Any:
        # Bytes of distinct storages: a tensor saved by two nodes is held once.
        nonlocal count, size
        count += 1
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in seen or storage.data_ptr() == 0:
            seen.add(storage.data_ptr())
            size += storage.nbytes()
        return tensor

    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = compute()
    return result, (count, size), time.perf_counter() - start


def _returning(value: Any) -> Callable[[], Any]:
    """A computation that hands back an already computed tensor (for ``trace_graph``)."""
    return lambda: value


def _name(k: int) -> str:
    return "f" + "'" * k if k <= 3 else f"f({k})"
