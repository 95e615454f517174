"""Values and derivatives of an expression by torch autograd, batched over all points.

Every function of the language acts element by element, so the points of a batch are
independent: the gradient of the sum of the outputs is, entry by entry, the derivative at each
point. One forward and one backward pass per derivative order serve all points at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations_with_replacement

import torch

from gradx.expression.to_torch import evaluate
from gradx.expression.tree import ParsedExpression

Tensor = torch.Tensor
Key = tuple[str, ...]


def derivative_keys(wrt: Sequence[str], order: int) -> tuple[Key, ...]:
    """The distinct derivatives of a given order: ``('x',)``, or ``('x','x'), ('x','y')``..."""
    return tuple(combinations_with_replacement(tuple(wrt), order))


def derivative_keys_up_to(wrt: Sequence[str], order: int) -> tuple[Key, ...]:
    """Every distinct derivative of order 1 to ``order``, lowest order first (f', f'', ...)."""
    return tuple(key for k in range(1, order + 1) for key in derivative_keys(wrt, k))


def values_and_derivatives(
    parsed: ParsedExpression,
    points: Mapping[str, Tensor],
    wrt: Sequence[str],
    order: int,
) -> tuple[Tensor, dict[Key, Tensor]]:
    """f and all its derivatives of order 1 to ``order`` w.r.t. ``wrt`` at every point."""
    leaves = {name: points[name].detach().clone().requires_grad_(name in wrt) for name in points}
    index = {name: i for i, name in enumerate(wrt)}
    with torch.enable_grad():
        value = evaluate(parsed.root, leaves, next(iter(points.values())).dtype)
        value = torch.broadcast_to(value, next(iter(points.values())).shape)
        current: dict[Key, Tensor] = {(): value}
        found: dict[Key, Tensor] = {}
        for level in range(1, order + 1):
            keep_graph = level < order
            following: dict[Key, Tensor] = {}
            for key, tensor in current.items():
                start = index[key[-1]] if key else 0
                targets = list(wrt[start:])
                grads = _grad(tensor, [leaves[v] for v in targets], keep_graph)
                for name, grad in zip(targets, grads, strict=True):
                    following[(*key, name)] = grad
            current = following
            found.update(following)
    derivatives = {key: _plain(found[key]) for key in derivative_keys_up_to(wrt, order)}
    return _plain(value), derivatives


def _plain(t: Tensor) -> Tensor:
    """A detached ordinary tensor (autograd may return lazy zero tensors, whose every later
    operation detours through torch's compiler stack and costs a second of imports)."""
    t = t.detach()
    if t._is_zerotensor():
        return torch.zeros(t.shape, dtype=t.dtype)
    return t


def _grad(output: Tensor, inputs: list[Tensor], keep_graph: bool) -> list[Tensor]:
    if not output.requires_grad:
        return [torch.zeros_like(output) for _ in inputs]
    # Sibling derivatives share parts of one graph, so it must outlive each call.
    grads = torch.autograd.grad(
        output.sum(),
        inputs,
        create_graph=keep_graph,
        retain_graph=True,
        allow_unused=True,
        materialize_grads=True,
    )
    return [torch.broadcast_to(g, output.shape) for g in grads]
