"""``gradx graph EXPR --order N``: the graphs that ``create_graph=True`` builds, order by order.

The k-th derivative is ``torch.autograd.grad(d_{k-1}.sum(), x, create_graph=True)``: autograd
records the backward pass itself as a new graph, which references the graphs below it. Each
pass is timed and its saved tensors are counted through ``saved_tensors_hooks`` (what the next
order's backward will need, and what stays in memory while the graph lives).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from gradx.commands.graph.model import HigherOrderGraphs, OrderStep
from gradx.commands.graph.sources import DEFAULT_VALUE, expression_values
from gradx.errors import GradxError
from gradx.expression.vocabulary import MAX_ORDER
from gradx.numerics.settings import DType


def derivative_graphs(
    expression: str, at: Sequence[str], dtype: str = "float64", order: int = 2
) -> HigherOrderGraphs:
    """f and its derivatives up to ``order`` along the first variable, each with its graph."""
    if not 1 <= order <= MAX_ORDER:
        raise GradxError(f"--order must be between 1 and {MAX_ORDER}")
    from gradx.expression.parser import parse_expression

    parsed = parse_expression(expression, tensors=True)
    if not parsed.variables:
        raise GradxError("the expression has no variables: there is no graph to draw (try 2*x*x)")
    torch_dtype = DType.parse(dtype).torch
    values = expression_values(at, parsed.variables)
    import torch

    from gradx.commands.graph.build import trace_graph
    from gradx.expression.to_torch import evaluate

    leaves = {
        name: torch.tensor(values.get(name, DEFAULT_VALUE), dtype=torch_dtype, requires_grad=True)
        for name in parsed.variables
    }
    variable = parsed.variables[0]
    steps: list[OrderStep] = []
    stopped: str | None = None
    failed = False

    current, saved, seconds = _counted(lambda: evaluate(parsed.root, leaves, torch_dtype))
    for k in range(order + 1):
        if k > 0:
            previous = current
            if not previous.requires_grad:
                stopped = (
                    f"{_name(k - 1)} is constant in {variable} (it has no graph): "
                    f"{_name(k)} and above are 0"
                )
                break

            def differentiate(p: Any = previous) -> Any:
                return torch.autograd.grad(
                    p.sum(), leaves[variable], create_graph=True, allow_unused=True
                )[0]

            try:
                current, saved, seconds = _counted(differentiate)
            except RuntimeError as exc:
                stopped = f"computing {_name(k)} failed: {str(exc).strip().splitlines()[0]}"
                failed = True
                break
            if current is None:  # allow_unused: f did not use the variable at all
                stopped = f"{_name(k - 1)} does not depend on {variable}: {_name(k)} is 0"
                break
        graph = trace_graph(
            f"{_name(k)} of {expression}", _returning(current), leaves, backward=False
        )
        steps.append(OrderStep(k, graph, len(graph.nodes), saved[0], saved[1], seconds))
    return HigherOrderGraphs(expression, variable, tuple(steps), stopped, failed)


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
