"""A target on concrete inputs, seen as one function of a flat vector: R^N → R^M.

Everything downstream works on flat real vectors: the N differentiated input elements
(arguments first, then module parameters; a complex element as its real and imaginary parts;
±inf/NaN elements held fixed) and the M output elements (every floating or complex output of any
dtype, flattened and concatenated; integer outputs skipped with a note). ``Problem`` evaluates
the function at many points in one batched call when ``torch.vmap`` can run it, and point by
point otherwise (Python control flow on tensor values, ``.item()``, old-style
``autograd.Function``s); both give the same numbers. The random-number state is restored before
every evaluation, so random operations draw the same numbers at every point. It also computes
autograd's vector-Jacobian products and Jacobian rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from gradx.text import first_line
from gradx.translations import Phrase, phrase

Tensor = torch.Tensor

# Elements of one batch of points (and of their outputs): keeps peak memory near 32 MiB.
BATCH_ELEMENTS = 4_000_000


class TargetFailure(Exception):
    """The target cannot be checked at these inputs (reported as an error with this text)."""


@dataclass(frozen=True)
class OutputLayout:
    """How the flat output maps back to the target's outputs (names, shapes, complex parts).

    A complex output takes two flat elements per element (real part, then imaginary part, as
    ``torch.view_as_real`` lays them out); ``skipped`` says which outputs are not compared.
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    complex: tuple[bool, ...] = ()
    dtypes: tuple[str, ...] = ()
    skipped: tuple[Phrase, ...] = ()

    @property
    def size(self) -> int:
        """M, the number of (real) output elements."""
        return sum(
            math.prod(s) * (2 if c else 1) for s, c in zip(self.shapes, self._flags(), strict=True)
        )

    def _flags(self) -> tuple[bool, ...]:
        return self.complex or (False,) * len(self.names)

    def locate(self, flat: int) -> tuple[str, tuple[int, ...]]:
        """(output name, multi-index) of flat output element ``flat``."""
        return _locate(self.names, self.shapes, flat, self._flags())


def _locate(
    names: Sequence[str],
    shapes: Sequence[tuple[int, ...]],
    flat: int,
    complex_flags: Sequence[bool] | None = None,
) -> tuple[str, tuple[int, ...]]:
    flags = complex_flags or (False,) * len(names)
    for name, shape, is_complex in zip(names, shapes, flags, strict=True):
        size = math.prod(shape) * (2 if is_complex else 1)
        if flat < size:
            if is_complex:
                element, part = divmod(flat, 2)
                return f"{name}.{'imag' if part else 'real'}", _unravel(element, shape)
            return name, _unravel(flat, shape)
        flat -= size
    raise IndexError(flat)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def real_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 for complex128, float32 for complex64; real dtypes unchanged."""
    return dtype.to_real() if dtype.is_complex else dtype


def _short(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _collect(out: object, name: str, found: list, skipped: list) -> None:
    """(name, tensor) of every differentiable output in ``out``, depth first; notes the rest."""
    if isinstance(out, Tensor):
        if out.is_floating_point() or out.is_complex():
            found.append((name, out))
        else:
            skipped.append(
                phrase(
                    "{name} ({dtype}) is not differentiable: not compared",
                    name=name,
                    dtype=_short(out.dtype),
                )
            )
    elif isinstance(out, tuple | list):
        for k, item in enumerate(out):
            _collect(item, f"{name}[{k}]", found, skipped)
    elif isinstance(out, dict):
        for key, item in out.items():
            _collect(item, f"{name}[{key!r}]", found, skipped)
    elif out is not None:
        skipped.append(
            phrase(
                "{name} is a {type}, not a tensor: not compared",
                name=name,
                type=type(out).__name__,
            )
        )


def _parts(
    out: object, exclude: frozenset[str] = frozenset()
) -> tuple[list[tuple[str, Tensor]], list[Phrase]]:
    if isinstance(out, Tensor):
        if not (out.is_floating_point() or out.is_complex()):
            raise TargetFailure(
                f"the output is a {_short(out.dtype)} tensor: "
                "only floating-point and complex outputs have gradients"
            )
        return [("out", out)], []
    if isinstance(out, tuple | list | dict):
        found: list[tuple[str, Tensor]] = []
        skipped: list[Phrase] = []
        _collect(out, "out", found, skipped)
        found = [(n, t) for n, t in found if n not in exclude]
        if not found:
            raise TargetFailure(
                "the output holds no floating-point or complex tensor: nothing to check"
            )
        return found, skipped
    kind = type(out).__name__
    hint = (
        " (.item() or float() cut the graph: return the tensor)" if kind in ("float", "int") else ""
    )
    raise TargetFailure(f"the function returns {kind}, not a tensor{hint}")


def _real_view(t: Tensor, dtype: torch.dtype | None, lead: int) -> Tensor:
    """A tensor's elements as reals (complex: real, imag interleaved), flat after ``lead`` dims."""
    if t.is_complex():
        # Not view_as_real: its backward needs grad_output at an even storage offset.
        t = torch.stack([t.real, t.imag], dim=-1)
    if dtype is not None:
        t = t.to(dtype)
    return t.reshape(*t.shape[:lead], -1)


def flatten_output(
    out: object, dtype: torch.dtype | None = None, exclude: frozenset[str] = frozenset()
) -> tuple[Tensor, OutputLayout]:
    """Every differentiable output of a call as one flat real vector, and its layout.

    Floating outputs of any dtype are converted to ``dtype`` (default: the promoted dtype);
    complex outputs contribute their real and imaginary parts; integer and boolean outputs are
    skipped (the layout says so), and so are the outputs named in ``exclude``.
    """
    parts, skipped = _parts(out, exclude)
    if dtype is None:
        dtype = real_dtype(parts[0][1].dtype)
        for _, t in parts[1:]:
            dtype = torch.promote_types(dtype, real_dtype(t.dtype))
    flat = [_real_view(t, dtype, 0) for _, t in parts]
    layout = OutputLayout(
        tuple(n for n, _ in parts),
        tuple(tuple(t.shape) for _, t in parts),
        tuple(t.is_complex() for _, t in parts),
        tuple(_short(t.dtype) for _, t in parts),
        tuple(skipped),
    )
    return (torch.cat(flat) if len(flat) > 1 else flat[0]), layout


def _flat_output(out: object, dtype: torch.dtype, exclude: frozenset[str] = frozenset()) -> Tensor:
    # A batched output: the leading dimension is the batch.
    parts, _ = _parts(out, exclude)
    flat = [_real_view(t, dtype, 1) for _, t in parts]
    return torch.cat(flat, dim=1) if len(flat) > 1 else flat[0]


def _rng_state() -> tuple[Tensor, list[Tensor] | None]:
    cuda = None
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = torch.cuda.get_rng_state_all()
    return torch.get_rng_state(), cuda


def _set_rng_state(state: tuple[Tensor, list[Tensor] | None]) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])


def _same_rng_state(a, b) -> bool:
    if not torch.equal(a[0], b[0]):
        return False
    if (a[1] is None) != (b[1] is None):
        return False
    return a[1] is None or all(torch.equal(x, y) for x, y in zip(a[1], b[1], strict=True))


class Problem:
    """A function of the flat input vector, with batched evaluation and autograd products.

    The flat vector holds the real elements of the differentiated inputs (a complex input
    contributes its real and imaginary parts), except elements that are ±inf or NaN: those are
    held fixed (not perturbed, their partials not checked). Before every call of the target the
    random-number state is set back to what it was when the Problem was made, so a function that
    draws random numbers draws the same ones at every point.
    """

    def __init__(
        self,
        call: Callable[[list[Tensor]], object],
        names: Sequence[str],
        shapes: Sequence[tuple[int, ...]],
        kinds: Sequence[str],
        x0: Tensor,
        *,
        vectorise: bool = True,
        fallback_reason: Phrase | None = None,
        grad_in_evaluate: bool = False,
        complex_inputs: Sequence[bool] = (),
        input_dtypes: Sequence[torch.dtype] = (),
    ) -> None:
        self._call = call
        self.names = tuple(names)
        self.shapes = tuple(tuple(s) for s in shapes)
        self.kinds = tuple(kinds)
        self.complex_inputs = tuple(complex_inputs) or (False,) * len(self.names)
        self.full_sizes = tuple(
            math.prod(s) * (2 if c else 1)
            for s, c in zip(self.shapes, self.complex_inputs, strict=True)
        )
        self.notes: list[Phrase] = []
        full = x0.detach()
        self.full_x0 = full
        finite = torch.isfinite(full)
        self._free: Tensor | None = None
        if not bool(finite.all()):
            self._free = finite.nonzero().squeeze(1)
            self.notes.append(self._fixed_note(~finite))
        self.x0 = full if self._free is None else full[self._free]
        self.dtype = x0.dtype
        self.n = int(self.x0.numel())
        self.sizes = self.full_sizes  # per input, in the full vector
        self.evaluations = 0
        self.vectorised: bool | None = None if vectorise else False
        self.fallback_reason = fallback_reason
        self._grad_in_evaluate = grad_in_evaluate
        self._graph: tuple[list[Tensor], Tensor] | None = None
        self.unused: tuple[str, ...] = ()
        self.no_graph = False
        self._rng = _rng_state()
        self._exclude: frozenset[str] = frozenset()
        self.random = False
        value = self.value_with_graph()
        if self.random:
            self.notes.append(
                phrase(
                    "random numbers inside the function: the random-number state is forked and "
                    "restored before every evaluation, so every evaluation draws the same "
                    "numbers"
                )
            )
        self.layout: OutputLayout = self._layout
        self.notes.extend(self.layout.skipped)
        self.m = self.layout.size
        self.y0 = value.detach()
        dtypes = [real_dtype(d) for d in input_dtypes] or [self.dtype]
        dtypes += [getattr(torch, d) for d in self.layout.dtypes]
        self.precision = max((real_dtype(d) for d in dtypes), key=lambda d: torch.finfo(d).eps)
        if torch.finfo(self.precision).eps > torch.finfo(self.dtype).eps:
            self.notes.append(
                phrase(
                    "a {dtype} value on the path: tolerances and steps follow {dtype} precision",
                    dtype=_short(self.precision),
                )
            )

    def _fixed_note(self, fixed: Tensor) -> Phrase:
        where = []
        for j in fixed.nonzero().squeeze(1)[:3].tolist():
            name, index = self._locate_full(j)
            where.append(f"{name}{list(index) if index else ''} = {float(self.full_x0[j]):g}")
        count = int(fixed.sum())
        listed = ", ".join(where)
        if count == 1:
            return phrase(
                "{where}: not finite, so not perturbed; its partials are not checked",
                where=listed,
            )
        if count <= 3:
            return phrase(
                "{where}: not finite, so not perturbed; their partials are not checked",
                where=listed,
            )
        return phrase(
            "{where} and {more} more: not finite, so not perturbed; their partials are not checked",
            where=listed,
            more=count - 3,
        )

    @property
    def is_complex(self) -> bool:
        """Whether an input or an output is complex (checked as real and imaginary parts)."""
        return any(self.complex_inputs) or any(self.layout.complex)

    @property
    def has_fixed_elements(self) -> bool:
        """Whether some input elements are held fixed (±inf or NaN)."""
        return self._free is not None

    # ------------------------------------------------------------------ indexing

    def _full(self, flat: Tensor) -> Tensor:
        if self._free is None:
            return flat
        base = self.full_x0.expand(*flat.shape[:-1], self.full_x0.shape[0])
        return base.index_copy(-1, self._free, flat)

    def split(self, flat: Tensor) -> list[Tensor]:
        """Per-input tensors from a flat vector (or a batch of them, leading dim kept)."""
        flat = self._full(flat)
        lead = tuple(flat.shape[:-1])
        pieces = torch.split(flat, list(self.full_sizes), dim=-1)
        out = []
        for piece, shape, is_complex in zip(pieces, self.shapes, self.complex_inputs, strict=True):
            if is_complex:
                pair = piece.reshape(lead + shape + (2,))
                out.append(torch.complex(pair[..., 0], pair[..., 1]))
            else:
                out.append(piece.reshape(lead + shape))
        return out

    def _locate_full(self, flat: int) -> tuple[str, tuple[int, ...]]:
        return _locate(self.names, self.shapes, flat, self.complex_inputs)

    def locate_input(self, flat: int) -> tuple[str, tuple[int, ...]]:
        """(input name, multi-index) of flat input element ``flat``."""
        if self._free is not None:
            flat = int(self._free[flat])
        return self._locate_full(flat)

    def input_slices(self) -> list[tuple[str, slice]]:
        """(name, slice of the flat vector) per input."""
        out, start = [], 0
        for name, size in zip(self.names, self.full_sizes, strict=True):
            if self._free is not None:
                inside = int(((self._free >= start) & (self._free < start + size)).sum())
                first = int((self._free < start).sum())
                out.append((name, slice(first, first + inside)))
            else:
                out.append((name, slice(start, start + size)))
            start += size
        return out

    # ------------------------------------------------------------------ values

    def _run(self, tensors: list[Tensor]) -> object:
        _set_rng_state(self._rng)
        try:
            return self._call(tensors)
        finally:
            _set_rng_state(self._rng)  # the caller's random state as it was

    def value_with_graph(self) -> Tensor:
        """The flat output at x0, recorded for autograd (computed once, then reused)."""
        if self._graph is None:
            leaves = [t.detach().clone().requires_grad_(True) for t in self.split(self.x0)]
            with torch.enable_grad():
                _set_rng_state(self._rng)
                out = self._call(leaves)
                self.random = not _same_rng_state(self._rng, _rng_state())
                _set_rng_state(self._rng)
            parts, _ = _parts(out)
            # Outputs that autograd marks non-differentiable (native_layer_norm's mean and
            # rstd) while others are differentiable are skipped, as gradcheck skips them.
            cut = [n for n, t in parts if not t.requires_grad]
            if cut and len(cut) < len(parts):
                self._exclude = frozenset(cut)
                if len(cut) == 1:
                    said = phrase(
                        "{names} does not require grad (autograd marks it non-differentiable): "
                        "not compared",
                        names=cut[0],
                    )
                else:
                    said = phrase(
                        "{names} do not require grad (autograd marks them non-differentiable): "
                        "not compared",
                        names=", ".join(cut),
                    )
                self.notes.append(said)
            flat, self._layout = flatten_output(out, self.dtype, self._exclude)
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

    def _batched(self, points: Tensor) -> Tensor:
        randomness = "same" if self.random else "error"
        if self.random:
            # Checked: the x0 row appended must give y0 (vmap draws what a plain call draws).
            points = torch.cat([points, self.x0[None]])
        _set_rng_state(self._rng)
        try:
            out = torch.vmap(lambda p: self._call(self.split(p)), randomness=randomness)(points)
        finally:
            _set_rng_state(self._rng)
        flat = _flat_output(out, self.dtype, self._exclude)
        if flat.shape != (points.shape[0], self.m):
            raise TargetFailure("batched output has the wrong shape")
        if self.random:
            if not torch.equal(flat[-1], self.y0):
                raise TargetFailure("randomness: vmap draws other random numbers")
            flat = flat[:-1]
        return flat

    def _evaluate_chunk(self, points: Tensor) -> Tensor:
        self.evaluations += points.shape[0]
        context = torch.enable_grad() if self._grad_in_evaluate else torch.no_grad()
        with context:
            if self.vectorised is not False and points.shape[0] > 1:
                try:
                    flat = self._batched(points)
                    self.vectorised = True
                    return flat.detach()
                except Exception as exc:  # noqa: BLE001 - any vmap failure: go point by point
                    self.vectorised = False
                    self.fallback_reason = vmap_failure_reason(exc)
            rows = []
            for p in points:
                flat, _ = flatten_output(self._run(self.split(p)), self.dtype, self._exclude)
                rows.append(flat.detach())
            return torch.stack(rows)

    # ------------------------------------------------------------------ autograd

    def vjp(self, v: Tensor) -> Tensor:
        """vᵀJ by one backward pass with grad_output v (zeros for inputs autograd cannot reach)."""
        leaves, y = self._graph  # type: ignore[misc]
        if not y.requires_grad:
            self.no_graph = True
            return torch.zeros(self.n, dtype=self.dtype)
        grads = torch.autograd.grad(y, leaves, v.to(y.dtype), retain_graph=True, allow_unused=True)
        unused: list[str] = []
        parts = []
        for name, leaf, g in zip(self.names, leaves, grads, strict=True):
            if g is None:
                unused.append(name)
                g = torch.zeros_like(leaf)
            parts.append(_real_view(g, self.dtype, 0))
        self.unused = tuple(unused)
        full = torch.cat(parts) if len(parts) > 1 else parts[0]
        return full if self._free is None else full[self._free]

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
        if (
            self.m > 8
            and self.vectorised is not False
            and not self._grad_in_evaluate
            and not self.random
        ):
            batched = self._jacobian_batched()
            if batched is not None and self._agrees_with_plain_backward(batched):
                return batched
        return self.jacobian_rows(range(self.m))

    def _agrees_with_plain_backward(self, jacobian: Tensor) -> bool:
        # vmap's batching rules are not always the plain backward (select_scatter's backward
        # under vmap sums over the batch): one plain vector-Jacobian product must agree.
        generator = torch.Generator().manual_seed(self.m * 31 + self.n)
        v = torch.randn(self.m, generator=generator, dtype=torch.float64).to(self.dtype)
        plain = self.vjp(v)
        batched = v @ jacobian
        scale = (v.abs() @ jacobian.abs()) + plain.abs()
        eps = torch.finfo(self.dtype).eps
        return bool(((plain - batched).abs() <= 64 * eps * scale + 1e-300).all())

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
                    flat = _flat_output(value, self.dtype, self._exclude)
                    picked = flat[torch.arange(count), torch.arange(start, start + count)]
                (grad,) = torch.autograd.grad(picked.sum(), points, allow_unused=True)
                out[start : start + count] = 0.0 if grad is None else grad
            self.evaluations += self.m
        except Exception:  # noqa: BLE001 - not vmap-able: the per-row loop gives the rows
            return None
        return out


def problem_from_inputs(inputs) -> Problem:
    """The flat Problem of a target's Inputs (see ``gradx.user_script.inputs``).

    Complex tensors are differentiated as their real and imaginary parts (the real-valued
    function of real and imaginary parts, as torch.autograd.gradcheck does).
    """
    if not inputs.tensors:
        raise TargetFailure("no floating-point or complex tensor input to differentiate")
    dtype = real_dtype(inputs.tensors[0].dtype)
    for t in inputs.tensors[1:]:
        dtype = torch.promote_types(dtype, real_dtype(t.dtype))
    parts = [_real_view(t.detach(), dtype, 0) for t in inputs.tensors]
    x0 = torch.cat(parts)
    kinds = list(inputs.kinds)
    complex_flags = [t.is_complex() for t in inputs.tensors]
    dtypes = [t.dtype for t in inputs.tensors]

    def call(tensors: list[Tensor]) -> object:
        # Each tensor in its own dtype: a float32 or complex64 input stays one.
        return inputs.call(
            [t if t.dtype == d else t.to(d) for t, d in zip(tensors, dtypes, strict=True)]
        )

    return Problem(
        call,
        inputs.names,
        [tuple(t.shape) for t in inputs.tensors],
        kinds,
        x0,
        complex_inputs=complex_flags,
        input_dtypes=dtypes,
    )


def vmap_failure_reason(exc: BaseException) -> Phrase:
    """Why the function could not be vectorised, in words."""
    text = str(exc)
    if "data-dependent control flow" in text or "Tensor to a Python" in text or ".item()" in text:
        return phrase("Python control flow on tensor values (or .item()): evaluated point by point")
    if "setup_context" in text or "autograd.Function" in text:
        return phrase("an autograd.Function without vmap support: evaluated point by point")
    if "randomness" in text:
        return phrase("random numbers inside the function: evaluated point by point")
    first = first_line(text) or type(exc).__name__
    return phrase("not vectorisable ({error}): evaluated point by point", error=first[:120])
