"""A target on concrete inputs, seen as one function of a flat vector: R^N → R^M.

Everything downstream works on flat vectors: the N differentiated input elements (arguments
first, then module parameters) and the M output elements (tensor outputs flattened and
concatenated). ``Problem`` evaluates the function at many points in one batched call when
``torch.vmap`` can run it, and point by point otherwise (Python control flow on tensor values,
``.item()``, old-style ``autograd.Function``s, random numbers); both give the same numbers.
It also computes autograd's vector-Jacobian products and Jacobian rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from gradx.text import first_line

Tensor = torch.Tensor

# Elements of one batch of points (and of their outputs): keeps peak memory near 32 MiB.
BATCH_ELEMENTS = 4_000_000


class TargetFailure(Exception):
    """The target cannot be checked at these inputs (reported as an error with this text)."""


@dataclass(frozen=True)
class OutputLayout:
    """How the flat output maps back to the target's outputs (names and shapes)."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @property
    def size(self) -> int:
        """M, the number of output elements."""
        return sum(math.prod(s) for s in self.shapes)

    def locate(self, flat: int) -> tuple[str, tuple[int, ...]]:
        """(output name, multi-index) of flat output element ``flat``."""
        return _locate(self.names, self.shapes, flat)


def _locate(
    names: Sequence[str], shapes: Sequence[tuple[int, ...]], flat: int
) -> tuple[str, tuple[int, ...]]:
    for name, shape in zip(names, shapes, strict=True):
        size = math.prod(shape)
        if flat < size:
            return name, _unravel(flat, shape)
        flat -= size
    raise IndexError(flat)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def flatten_output(out: object) -> tuple[Tensor, OutputLayout]:
    """The differentiable outputs of a call, flattened and concatenated, and their layout."""
    if isinstance(out, Tensor):
        if not (out.is_floating_point() or out.is_complex()):
            raise TargetFailure(
                f"the output is a {str(out.dtype).replace('torch.', '')} tensor: "
                "only floating-point outputs have gradients"
            )
        if out.is_complex():
            raise TargetFailure("complex outputs are not supported by gradx check yet")
        return out.reshape(-1), OutputLayout(("out",), (tuple(out.shape),))
    if isinstance(out, tuple | list):
        parts, names, shapes = [], [], []
        for k, item in enumerate(out):
            if isinstance(item, Tensor) and item.is_floating_point():
                parts.append(item.reshape(-1))
                names.append(f"out[{k}]")
                shapes.append(tuple(item.shape))
        if not parts:
            raise TargetFailure("the output holds no floating-point tensor: nothing to check")
        dtype = torch.promote_types(*[p.dtype for p in parts]) if len(parts) > 1 else parts[0].dtype
        flat = torch.cat([p.to(dtype) for p in parts]) if len(parts) > 1 else parts[0]
        return flat, OutputLayout(tuple(names), tuple(shapes))
    kind = type(out).__name__
    hint = (
        " (.item() or float() cut the graph: return the tensor)" if kind in ("float", "int") else ""
    )
    raise TargetFailure(f"the function returns {kind}, not a tensor{hint}")


def _flat_output(out: object) -> Tensor:
    # A batched output: the leading dimension is the batch.
    if isinstance(out, Tensor):
        return out.reshape(out.shape[0], -1)
    parts = [t for t in out if isinstance(t, Tensor) and t.is_floating_point()]
    return torch.cat([p.reshape(p.shape[0], -1) for p in parts], dim=1)


class Problem:
    """A function of the flat input vector, with batched evaluation and autograd products."""

    def __init__(
        self,
        call: Callable[[list[Tensor]], object],
        names: Sequence[str],
        shapes: Sequence[tuple[int, ...]],
        kinds: Sequence[str],
        x0: Tensor,
        *,
        vectorise: bool = True,
        fallback_reason: str | None = None,
        grad_in_evaluate: bool = False,
    ) -> None:
        self._call = call
        self.names = tuple(names)
        self.shapes = tuple(tuple(s) for s in shapes)
        self.kinds = tuple(kinds)
        self.sizes = tuple(math.prod(s) for s in self.shapes)
        self.x0 = x0.detach()
        self.dtype = x0.dtype
        self.n = int(x0.numel())
        self.evaluations = 0
        self.vectorised: bool | None = None if vectorise else False
        self.fallback_reason = fallback_reason
        self._grad_in_evaluate = grad_in_evaluate
        self._graph: tuple[list[Tensor], Tensor] | None = None
        self.unused: tuple[str, ...] = ()
        self.no_graph = False
        value = self.value_with_graph()
        self.layout: OutputLayout = self._layout
        self.m = self.layout.size
        if self.m == 0:
            raise TargetFailure("the output is empty: nothing to compare")
        self.y0 = value.detach()

    # ------------------------------------------------------------------ indexing

    def split(self, flat: Tensor) -> list[Tensor]:
        """Per-input tensors from a flat vector (or a batch of them, leading dim kept)."""
        lead = flat.shape[:-1]
        pieces = torch.split(flat, self.sizes, dim=-1)
        return [p.reshape(tuple(lead) + s) for p, s in zip(pieces, self.shapes, strict=True)]

    def locate_input(self, flat: int) -> tuple[str, tuple[int, ...]]:
        """(input name, multi-index) of flat input element ``flat``."""
        return _locate(self.names, self.shapes, flat)

    def input_slices(self) -> list[tuple[str, slice]]:
        """(name, slice of the flat vector) per input."""
        out, start = [], 0
        for name, size in zip(self.names, self.sizes, strict=True):
            out.append((name, slice(start, start + size)))
            start += size
        return out

    # ------------------------------------------------------------------ values

    def value_with_graph(self) -> Tensor:
        """The flat output at x0, recorded for autograd (computed once, then reused)."""
        if self._graph is None:
            leaves = [t.detach().clone().requires_grad_(True) for t in self.split(self.x0)]
            with torch.enable_grad():
                out = self._call(leaves)
            flat, self._layout = flatten_output(out)
            self._graph = (leaves, flat)
            self.evaluations += 1
        return self._graph[1]

    def evaluate(self, points: Tensor) -> Tensor:
        """Outputs (B, M) at B points (B, N), in as few batched calls as memory allows."""
        if points.shape[0] == 0:
            return points.new_zeros((0, self.m))
        rows = max(1, BATCH_ELEMENTS // max(self.n, self.m, 1))
        if points.shape[0] <= rows:
            return self._evaluate_chunk(points)
        # Copy each part into one preallocated result: torch.cat would hold everything twice.
        out: Tensor | None = None
        for i in range(0, points.shape[0], rows):
            part = self._evaluate_chunk(points[i : i + rows])
            if out is None:
                out = part.new_empty((points.shape[0], *part.shape[1:]))
            out[i : i + part.shape[0]] = part
        assert out is not None
        return out

    def _evaluate_chunk(self, points: Tensor) -> Tensor:
        self.evaluations += points.shape[0]
        context = torch.enable_grad() if self._grad_in_evaluate else torch.no_grad()
        with context:
            if self.vectorised is not False and points.shape[0] > 1:
                try:
                    out = torch.vmap(lambda p: self._call(self.split(p)))(points)
                    flat = _flat_output(out).to(self.dtype)
                    if flat.shape != (points.shape[0], self.m):
                        raise TargetFailure("batched output has the wrong shape")
                    self.vectorised = True
                    return flat.detach()
                except Exception as exc:  # noqa: BLE001 - any vmap failure: go point by point
                    self.vectorised = False
                    self.fallback_reason = vmap_failure_reason(exc)
            rows = []
            for p in points:
                out = self._call(self.split(p))
                flat, _ = flatten_output(out)
                rows.append(flat.detach().to(self.dtype))
            return torch.stack(rows)

    # ------------------------------------------------------------------ autograd

    def vjp(self, v: Tensor) -> Tensor:
        """vᵀJ by one backward pass with grad_output v (zeros for inputs autograd cannot reach)."""
        leaves, y = self._graph  # type: ignore[misc]
        if not y.requires_grad:
            self.no_graph = True
            return torch.zeros(self.n, dtype=self.dtype)
        grads = torch.autograd.grad(y, leaves, v.to(y.dtype), retain_graph=True, allow_unused=True)
        unused = []
        parts = []
        for name, leaf, g in zip(self.names, leaves, grads, strict=True):
            if g is None:
                unused.append(name)
                g = torch.zeros_like(leaf)
            parts.append(g.reshape(-1).to(self.dtype))
        self.unused = tuple(unused)
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def jacobian_times(self, directions: Tensor, v: Tensor) -> Tensor | None:
        """autograd's J·u (K, M) for the K rows u of ``directions``, or None if unavailable.

        The backward pass g(v) = vᵀJ is run once with ``create_graph`` at ``v`` and then
        differentiated with respect to v along each u: for a backward that is linear in its
        grad_output that derivative is exactly J·u, at the cost of about two backward passes
        per direction instead of one per output. None when the backward cannot be
        differentiated (``once_differentiable``, ops without double backward).
        """
        leaves, y = self._graph  # type: ignore[misc]
        if not y.requires_grad:
            return torch.zeros((directions.shape[0], self.m), dtype=self.dtype)
        try:
            with torch.enable_grad():
                w = v.detach().to(y.dtype).requires_grad_(True)
                grads = torch.autograd.grad(y, leaves, w, create_graph=True, allow_unused=True)
                flat = torch.cat(
                    [
                        (torch.zeros_like(leaf) if g is None else g).reshape(-1)
                        for leaf, g in zip(leaves, grads, strict=True)
                    ]
                )
                if not flat.requires_grad:
                    return None
                rows = []
                for u in directions:
                    (row,) = torch.autograd.grad(
                        flat, w, u.to(flat.dtype), retain_graph=True, allow_unused=True
                    )
                    if row is None:  # the backward does not use grad_output along u
                        return None
                    rows.append(row.detach())
        except Exception:  # noqa: BLE001 - no double backward: the caller uses the rows
            return None
        return torch.stack(rows).to(self.dtype)

    def jacobian_rows(self, rows: Sequence[int]) -> Tensor:
        """Rows of autograd's Jacobian (len(rows), N), one backward pass per row."""
        out = torch.empty((len(rows), self.n), dtype=self.dtype)
        onehot = torch.zeros(self.m, dtype=self.dtype)
        for k, i in enumerate(rows):
            onehot[i] = 1.0
            out[k] = self.vjp(onehot)
            onehot[i] = 0.0
        return out

    def jacobian(self) -> Tensor:
        """autograd's whole Jacobian (M, N)."""
        if self.m > 8 and self.vectorised is not False and not self._grad_in_evaluate:
            batched = self._jacobian_batched()
            if batched is not None:
                return batched
        return self.jacobian_rows(range(self.m))

    def _jacobian_batched(self) -> Tensor | None:
        # Evaluate the function at M copies of x0 in one vmap'd call and pick output i of copy
        # i: one backward pass then yields every row. Faster than M separate passes, and the
        # backward formulas are the same ones a plain backward uses.
        if self.no_graph or not self.value_with_graph().requires_grad:
            return None
        rows = max(1, BATCH_ELEMENTS // max(self.n, self.m, 1))
        out = torch.empty((self.m, self.n), dtype=self.dtype)
        try:
            for start in range(0, self.m, rows):
                count = min(rows, self.m - start)
                points = self.x0.expand(count, self.n).clone().requires_grad_(True)
                with torch.enable_grad():
                    value = torch.vmap(lambda p: self._call(self.split(p)))(points)
                    flat = _flat_output(value)
                    picked = flat[torch.arange(count), torch.arange(start, start + count)]
                (grad,) = torch.autograd.grad(picked.sum(), points, allow_unused=True)
                out[start : start + count] = 0.0 if grad is None else grad
            self.evaluations += self.m
        except Exception:  # noqa: BLE001 - not vmap-able: the per-row loop gives the rows
            return None
        return out


def vmap_failure_reason(exc: BaseException) -> str:
    """Why the function could not be vectorised, in words."""
    text = str(exc)
    if "data-dependent control flow" in text or "Tensor to a Python" in text or ".item()" in text:
        return "Python control flow on tensor values (or .item()): evaluated point by point"
    if "setup_context" in text or "autograd.Function" in text:
        return "an autograd.Function without vmap support: evaluated point by point"
    if "randomness" in text:
        return "random numbers inside the function: evaluated point by point"
    first = first_line(text) or type(exc).__name__
    return f"not vectorisable ({first[:120]}): evaluated point by point"
