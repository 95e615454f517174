"""``gradx check FILE::fast --against FILE::reference``: a kernel against a reference implementation.

Finite differences are noise in float16/bfloat16, so a low-precision kernel is checked the way
kernel test suites do it by hand: on the same inputs, the reference run in float64 is the
truth, the same reference run in the kernel's dtype shows how large an honest low-precision
error is, and the kernel passes when it is no worse than that.

Compared, on the same seeded inputs (rounded to the kernel's dtype, so that all three runs see
exactly the same numbers): every forward output; the vector-Jacobian products for ``COTANGENTS``
seeded random grad_outputs (also rounded); and, when it is small, the whole Jacobian.

The rule, per compared tensor (each output, each input's gradient): with T the float64
reference, R the reference in the kernel's dtype and K the kernel, the reference's errors
|R - T| are bounded by an envelope ``relative·|T| + absolute`` fitted over the whole tensor
(the tightest one on average among a few candidate slopes; never below one unit roundoff of the
dtype, ``eps·|T|`` and ``eps·rms(T)``), and an element of the kernel is wrong when

    |K - T| > FACTOR · (relative·|T| + absolute) + atol + rtol·|T|

Because the envelope covers the whole tensor, an element where the reference happens to round
exactly still gets the tensor's honest budget; because it scales with |T|, small elements are
not judged by the largest one's error. Wrong elements are ranked by ``|K - T| / budget``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from gradx.commands.check import causes
from gradx.commands.check.device import to_device
from gradx.commands.check.model import (
    ErrorBudget,
    ErrorInfo,
    GradCheck,
    GradientCause,
    InputInfo,
    JacobianEntry,
    Settings,
    TargetResult,
    Verdict,
    badness,
)
from gradx.commands.check.problem import TargetFailure, _unravel
from gradx.translations import N_, Phrase, phrase
from gradx.user_script.inputs import InputError, Inputs, describe_value, instantiate_module
from gradx.user_script.spec import InputSpec
from gradx.user_script.targets import AUTOGRAD_FUNCTION, FUNCTION, MODULE, Target

Tensor = torch.Tensor

DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
FACTOR = 2.0  # the kernel may be this many times worse than the reference in its dtype
COTANGENTS = 2  # seeded random grad_outputs
JACOBIAN_ENTRIES = 65_536  # the whole Jacobian is compared up to this many entries...
JACOBIAN_OUTPUTS = 1_024  # ...and this many output elements (one backward pass per output)
TOP = 10
LOCALISE_COLUMNS = 4  # wrong input elements whose output is found by bisection
_QUANTILES = (0.5, 0.9, 0.99, 1.0)


# ------------------------------------------------------------------------------ the pair


@dataclass
class Pair:
    """Kernel and reference on the same inputs.

    ``base`` holds the differentiated tensors in float64 on the cpu, already rounded to the
    kernel's dtype; ``kernel(dtype, device)`` and ``reference(dtype, device)`` return a
    function of those tensors (moved to ``device`` and converted to ``dtype``).
    """

    base: list[Tensor]
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    kernel: Callable[[torch.dtype, str], Callable[[list[Tensor]], object]]
    reference: Callable[[torch.dtype, str], Callable[[list[Tensor]], object]]
    notes: list[Phrase] = field(default_factory=list)
    random: bool = False


def reference_callable(obj: Any, kind: str | None, *, seed: int) -> tuple[Any, Any]:
    """(callable, module or None) for a reference given as a function, Function or Module."""
    import inspect

    if kind == AUTOGRAD_FUNCTION or (
        inspect.isclass(obj) and issubclass(obj, torch.autograd.Function)
    ):
        return obj.apply, None
    if kind == MODULE or (inspect.isclass(obj) and issubclass(obj, torch.nn.Module)):
        module = instantiate_module(obj, seed=seed, dtype=torch.float64)
        return module, module
    if isinstance(obj, torch.nn.Module):
        module = copy.deepcopy(obj).to(torch.float64)
        return module, module
    if not callable(obj):
        raise InputError(f"the reference {obj!r} is not callable")
    return obj, None


def make_pair(inputs: Inputs, reference: Any, reference_kind: str | None, *, seed: int, dtype):
    """The Pair of a kernel's ``Inputs`` (built in float64) and a reference object."""
    notes: list[Phrase] = []
    n_args = len(inputs.slots)
    base = [_round(t.detach().to("cpu", torch.float64), dtype) for t in inputs.tensors]
    names, kinds = list(inputs.names), list(inputs.kinds)
    kernel_module = None
    if inputs.module is not None:
        kernel_module = copy.deepcopy(inputs.module).to(torch.float64)
        _round_module(kernel_module, dtype)
    ref_fn, ref_module = reference_callable(reference, reference_kind, seed=seed)
    shared = (
        kernel_module is not None
        and ref_module is not None
        and set(kernel_module.state_dict()) == set(ref_module.state_dict())
    )
    if shared and kernel_module is not None and ref_module is not None:
        ref_module.load_state_dict(kernel_module.state_dict())
    elif len(base) > n_args:
        base, names, kinds = base[:n_args], names[:n_args], kinds[:n_args]
        notes.append(
            phrase(
                "the reference is not a module with the same state-dict keys: the parameters "
                "are not compared (only the inputs' gradients)"
            )
        )
    if not base:
        raise TargetFailure("no floating-point tensor input to differentiate")
    if ref_module is not None and not shared:
        _round_module(ref_module, dtype)

    def bind(fn: Any, module: Any) -> Callable[[torch.dtype, str], Callable]:
        def make(run_dtype: torch.dtype, device: str) -> Callable[[list[Tensor]], object]:
            moved = None
            if module is not None:
                moved = copy.deepcopy(module).to(device=device, dtype=run_dtype)
            bound = replace(
                inputs,
                fn=moved if moved is not None else fn,
                module=moved,
                args=to_device(list(inputs.args), device),
                kwargs=to_device(dict(inputs.kwargs), device),
            )
            return bound.call

        return make

    kernel_fn = kernel_module if kernel_module is not None else inputs.fn
    return Pair(
        base=base,
        names=tuple(names),
        kinds=tuple(kinds),
        kernel=bind(kernel_fn, kernel_module),
        reference=bind(ref_fn, ref_module),
        notes=notes,
        random=inputs.random,
    )


def _round(t: Tensor, dtype: torch.dtype) -> Tensor:
    return t.to(dtype).to(torch.float64)


def _round_module(module: Any, dtype: torch.dtype) -> None:
    # Every run must see the same numbers: the float64 runs get the low-precision values.
    with torch.no_grad():
        for tensor in (*module.parameters(), *module.buffers()):
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(dtype).to(tensor.dtype))


# ------------------------------------------------------------------------------ one run


class _Side:
    """One implementation run once in one dtype on one device, with its graph kept."""

    def __init__(self, call, base: list[Tensor], names: Sequence[str], dtype, device: str):
        self.names = tuple(names)
        self.sizes = tuple(t.numel() for t in base)
        self.leaves = [b.to(device=device, dtype=dtype).requires_grad_(True) for b in base]
        with torch.enable_grad():
            out = call(self.leaves)
        self.outs, self.out_names, self.out_shapes = _outputs(out)
        self.value = torch.cat([_host(o).reshape(-1) for o in self.outs])
        self.m = int(self.value.numel())
        self.n = sum(self.sizes)
        self.no_graph = not any(o.requires_grad for o in self.outs)
        self.unused: set[str] = set()

    def vjp(self, v: Tensor) -> Tensor:
        """vᵀJ (float64, cpu) for a flat cotangent ``v``; inputs autograd cannot reach give 0."""
        pairs = []
        for out, part in zip(
            self.outs, torch.split(v, [o.numel() for o in self.outs]), strict=True
        ):
            if out.requires_grad:
                pairs.append((out, part.reshape(out.shape).to(out.device, out.dtype)))
        if not pairs:
            self.unused.update(self.names)
            return torch.zeros(self.n, dtype=torch.float64)
        grads = torch.autograd.grad(
            [o for o, _ in pairs],
            self.leaves,
            [c for _, c in pairs],
            retain_graph=True,
            allow_unused=True,
        )
        return self._flat(grads)

    def jacobian(self) -> Tensor:
        """The whole Jacobian (m, n): all rows in one batched backward, else row by row."""
        eye = torch.eye(self.m, dtype=torch.float64)
        pairs, start = [], 0
        for out in self.outs:
            block = eye[:, start : start + out.numel()]
            start += out.numel()
            if out.requires_grad:
                pairs.append((out, block.reshape(self.m, *out.shape).to(out.device, out.dtype)))
        if not pairs:
            self.unused.update(self.names)
            return torch.zeros(self.m, self.n, dtype=torch.float64)
        try:
            grads = torch.autograd.grad(
                [o for o, _ in pairs],
                self.leaves,
                [c for _, c in pairs],
                retain_graph=True,
                allow_unused=True,
                is_grads_batched=True,
            )
            return self._flat(grads, batch=self.m)
        except Exception:  # noqa: BLE001 - a backward without vmap support: one row at a time
            return torch.stack([self.vjp(eye[i]) for i in range(self.m)])

    def _flat(self, grads, batch: int | None = None) -> Tensor:
        parts = []
        lead = () if batch is None else (batch,)
        for name, size, g in zip(self.names, self.sizes, grads, strict=True):
            if g is None:
                self.unused.add(name)
                parts.append(torch.zeros(*lead, size, dtype=torch.float64))
            else:
                parts.append(_host(g).reshape(*lead, size))
        return torch.cat(parts, dim=-1)


def _host(t: Tensor) -> Tensor:
    return t.detach().to("cpu", torch.float64)


def _outputs(out: object) -> tuple[list[Tensor], tuple[str, ...], tuple[tuple[int, ...], ...]]:
    if isinstance(out, Tensor):
        items = [("out", out)]
    elif isinstance(out, tuple | list):
        items = [
            (f"out[{k}]", t)
            for k, t in enumerate(out)
            if isinstance(t, Tensor) and (t.is_floating_point() or t.is_complex())
        ]
        if not items:
            raise TargetFailure("the output holds no floating-point tensor: nothing to compare")
    else:
        raise TargetFailure(f"the function returns {type(out).__name__}, not a tensor")
    for name, t in items:
        if t.is_complex():
            raise TargetFailure(f"{name} is complex: --against compares real outputs only")
        if not t.is_floating_point():
            raise TargetFailure(f"{name} is a {str(t.dtype).replace('torch.', '')} tensor")
    return (
        [t for _, t in items],
        tuple(n for n, _ in items),
        tuple(tuple(t.shape) for _, t in items),
    )


# ------------------------------------------------------------------------------ the rule


@dataclass
class _Compared:
    """One compared tensor: truth T, reference R, kernel K (flat float64) and the verdicts."""

    quantity: str
    truth: Tensor
    reference: Tensor
    kernel: Tensor
    bound: Tensor
    bad: Tensor
    score: Tensor
    budget: ErrorBudget
    where: Callable[[int], tuple[str, tuple[int, ...], str, tuple[int, ...]]]
    cotangent: int | None = None  # vector-Jacobian products: which grad_output
    columns: slice | None = None  # ...and which input's elements of the flat input vector


def error_budget(
    truth: Tensor, reference: Tensor, eps: float, *, factor: float = FACTOR, rtol=0.0, atol=0.0
) -> tuple[Tensor, float, float]:
    """Per-element allowed |kernel - truth|, and the envelope (relative, absolute) behind it.

    The envelope ``relative·|T| + absolute`` covers the reference's error |R - T| on every
    element; among a few candidate slopes (eps and quantiles of the relative errors) the one
    with the smallest mean envelope wins. Floors: ``eps`` and ``eps·rms(T)``.
    """
    finite = torch.isfinite(truth)
    size = torch.where(finite, truth.abs(), torch.zeros_like(truth))
    error = (reference - truth).abs()
    usable = finite & torch.isfinite(error)
    error = torch.where(usable, error, torch.zeros_like(error))
    floor = eps * float(size.square().mean().sqrt()) if size.numel() else 0.0
    ratios = error[usable & (size > 0)] / size[usable & (size > 0)]
    slopes = [eps]
    if ratios.numel():
        ordered = ratios.sort().values
        for q in _QUANTILES:
            slopes.append(max(eps, float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])))
    mean_size = float(size.mean()) if size.numel() else 0.0
    best = None
    for slope in slopes:
        over = float((error - slope * size).max()) if error.numel() else 0.0
        absolute = max(floor, over)
        cost = slope * mean_size + absolute
        if best is None or cost < best[0]:
            best = (cost, slope, absolute)
    _, relative, absolute = best  # type: ignore[misc]
    bound = factor * (relative * size + absolute) + atol + rtol * size
    # Where the reference itself overflowed or is NaN it says nothing: no budget there.
    bound = torch.where(usable | ~finite, bound, torch.full_like(bound, math.inf))
    return bound, relative, absolute


def _compare(quantity, truth, reference, kernel, eps, rtol, atol, where) -> _Compared:
    bound, relative, absolute = error_budget(truth, reference, eps, rtol=rtol, atol=atol)
    diff = (kernel - truth).abs()
    finite = torch.isfinite(truth)
    same = (kernel == truth) | (kernel.isnan() & truth.isnan())
    bad = torch.where(finite, ~(diff <= bound), ~same)
    score = torch.where(bound > 0, diff / bound, torch.where(diff > 0, math.inf, 0.0))
    score = torch.where(bad & ~(score > 1), torch.full_like(score, math.inf), score)
    score = torch.where(bad | finite, score, torch.zeros_like(score))
    ref_error = (reference - truth).abs()
    budget = ErrorBudget(
        quantity=quantity,
        elements=int(truth.numel()),
        kernel_error=_max(diff[finite]),
        reference_error=_max(ref_error[finite & torch.isfinite(ref_error)]),
        relative=relative,
        absolute=absolute,
        factor=FACTOR,
        mismatches=int(bad.sum()),
    )
    return _Compared(quantity, truth, reference, kernel, bound, bad, score, budget, where)


def _max(t: Tensor) -> float:
    if t.numel() == 0:
        return 0.0
    return float(t.max()) if not bool(t.isnan().any()) else math.nan


# ------------------------------------------------------------------------------ the check


def compare_pair(
    pair: Pair,
    *,
    dtype: torch.dtype,
    device: str,
    seed: int,
    sample: int,
    rtol: float,
    atol: float,
    against: str,
    at: tuple[tuple[str, str], ...] = (),
) -> GradCheck:
    """Run kernel, reference and float64 reference once each and compare them (a GradCheck)."""
    eps = float(torch.finfo(dtype).eps)
    kernel = _Side(pair.kernel(dtype, device), pair.base, pair.names, dtype, device)
    low = _Side(pair.reference(dtype, device), pair.base, pair.names, dtype, device)
    truth = _Side(
        pair.reference(torch.float64, device), pair.base, pair.names, torch.float64, device
    )
    if (kernel.out_names, kernel.out_shapes) != (truth.out_names, truth.out_shapes):
        raise TargetFailure(
            f"the kernel returns {_describe(kernel)} but the reference returns {_describe(truth)}"
        )
    if not bool(torch.isfinite(truth.value).all()):
        raise NonFiniteReference(
            "the reference's float64 value is nan or inf at the inputs: nothing to compare with"
        )
    slices = _slices(pair.names, truth.sizes)
    shapes = tuple(tuple(t.shape) for t in pair.base)
    out_shapes = truth.out_shapes

    def out_where(flat: int) -> tuple[str, tuple[int, ...], str, tuple[int, ...]]:
        name, index = _locate(truth.out_names, out_shapes, flat)
        return name, index, "(value)", ()

    compared = [
        _compare(
            "forward " + n,
            truth.value[s],
            low.value[s],
            kernel.value[s],
            eps,
            rtol,
            atol,
            _shift(out_where, s.start),
        )
        for n, s in _slices(truth.out_names, [math.prod(sh) for sh in out_shapes])
    ]
    generator = torch.Generator().manual_seed(seed * 7_919 + sample * 104_729 + 10)
    cotangents = [
        _round(torch.randn(truth.m, generator=generator, dtype=torch.float64), dtype)
        for _ in range(COTANGENTS)
    ]
    vjps = []
    for k, v in enumerate(cotangents, start=1):
        t, r, c = truth.vjp(v), low.vjp(v), kernel.vjp(v)
        for name, s in slices:
            shape = shapes[pair.names.index(name)]

            def vjp_where(j: int, k=k, name=name, shape=shape):
                return f"vjp {k}", (), name, _unravel(j, shape)

            compared_vjp = _compare(
                f"vjp {k} → {name}", t[s], r[s], c[s], eps, rtol, atol, vjp_where
            )
            vjps.append(replace(compared_vjp, cotangent=k - 1, columns=s))
    compared.extend(vjps)
    jacobians: list[_Compared] = []
    dense = truth.m <= JACOBIAN_OUTPUTS and truth.m * truth.n <= JACOBIAN_ENTRIES
    if dense:
        jt, jr, jk = truth.jacobian(), low.jacobian(), kernel.jacobian()
        for name, s in slices:
            shape = shapes[pair.names.index(name)]
            width = s.stop - s.start

            def jac_where(flat: int, name=name, shape=shape, width=width):
                row, col = divmod(flat, width)
                out_name, out_index = _locate(truth.out_names, out_shapes, row)
                return out_name, out_index, name, _unravel(col, shape)

            jacobians.append(
                _compare(
                    f"jacobian → {name}",
                    jt[:, s].reshape(-1),
                    jr[:, s].reshape(-1),
                    jk[:, s].reshape(-1),
                    eps,
                    rtol,
                    atol,
                    jac_where,
                )
            )
        compared.extend(jacobians)
    mismatch_count = sum(c.budget.mismatches for c in compared)
    # With the whole Jacobian, its wrong entries (and wrong outputs) name both indices; the
    # products are then shown only when they alone are wrong (a backward ignoring grad_output).
    shown = [c for c in compared if c not in vjps]
    if not dense or not any(c.budget.mismatches for c in shown):
        shown = compared
    verdict = Verdict.FAIL if mismatch_count else Verdict.PASS
    cause = None
    located: list[JacobianEntry] = []
    if verdict is Verdict.FAIL:
        cause = _cause(
            vjps,
            jacobians,
            kernel,
            low,
            truth,
            cotangents[0],
            slices,
            shapes,
            eps,
            rtol,
            atol,
        )
        if not dense and (cause is None or cause.id != "ignores-grad-output"):
            located = _localise(vjps, (kernel, low, truth), cotangents, eps, rtol, atol)
        cause = _in_reference_terms(cause)
    entries = sorted(located, key=badness, reverse=True) + _ranked_entries(shown)
    notes = list(pair.notes)
    dtype_text = str(dtype).replace("torch.", "")
    if dense:
        notes.append(
            phrase(
                "compared on {device}: outputs, {count} random vector-Jacobian products and "
                "the whole Jacobian",
                device=device,
                count=COTANGENTS,
            )
        )
    else:
        notes.append(
            phrase(
                "compared on {device}: outputs, {count} random vector-Jacobian products (the "
                "Jacobian is too large to compare whole)",
                device=device,
                count=COTANGENTS,
            )
        )
    infos = tuple(
        InputInfo(n, shape, kind, dtype_text)
        for n, shape, kind in zip(pair.names, shapes, pair.kinds, strict=True)
    )
    bad_entries = [e for e in entries if badness(e) > 1]
    return GradCheck(
        order=1,
        sample=sample,
        verdict=verdict,
        method="against reference" + (", full jacobian" if dense else ", vector-jacobian products"),
        inputs=infos,
        output_shape=out_shapes[0] if len(out_shapes) == 1 else (truth.m,),
        entries_checked=sum(c.budget.elements for c in compared),
        mismatch_count=mismatch_count,
        worst=entries[0] if entries else None,
        mismatches=tuple(bad_entries[:TOP]),
        cause=cause,
        evaluations=3,
        notes=tuple(notes),
        at=at,
        against=against,
        budgets=tuple(c.budget for c in compared),
    )


# The causes as ``_in_reference_terms`` words them, listed so that each has a translation
# (tests/test_check_graph_lang.py checks that every rewritten cause is here).
REFERENCE_CAUSES = (
    N_(
        "missing gradient: the kernel returns no gradient (None) for {names}; it reaches the "
        "output through .data or .detach() (or torch.no_grad()), or backward returns None or "
        "zeros for it"
    ),
    N_(
        "missing gradient: the kernel gives 0 for {names} where the float64 reference is not; "
        "it reaches the output through .data or .detach() (or torch.no_grad()), or backward "
        "returns None or zeros for it"
    ),
    N_(
        "gradients swapped: the kernel's gradient for {first} is the float64 reference's "
        "gradient of {second} and the other way round (backward returns them in the wrong order)"
    ),
    N_(
        "transposed Jacobian for {name}: kernel[i, j] ≈ float64 reference[j, i] (a .T missing "
        "or extra in backward, or the operands of a matmul swapped)"
    ),
    N_(
        "sign error: kernel ≈ −float64 reference on every wrong entry (a minus sign missing or "
        "extra in backward)"
    ),
    N_(
        "constant factor: kernel = {factor} × float64 reference on every wrong entry (a missing "
        "or extra factor in backward)"
    ),
)


def _in_reference_terms(cause: GradientCause | None) -> GradientCause | None:
    """The cause's sentence with the kernel and the float64 reference in the roles of autograd
    and finite differences (the patterns are the same; causes.py words them for finite
    differences)."""
    if cause is None:
        return None
    text = cause.text.template
    for old, new in (
        ("numeric derivative", "float64 reference"),
        ("numeric gradient", "float64 reference's gradient"),
        ("numeric one", "float64 reference's"),
        ("−numeric", "−float64 reference"),
        ("numeric[", "float64 reference["),
        ("× numeric", "× float64 reference"),
        ("autograd[", "kernel["),
        ("autograd's gradient", "the kernel's gradient"),
        ("autograd ≈", "kernel ≈"),
        ("autograd =", "kernel ="),
        ("autograd returns", "the kernel returns"),
        ("autograd gives", "the kernel gives"),
    ):
        text = text.replace(old, new)
    return replace(cause, text=Phrase(text, cause.text.params))


class NonFiniteReference(TargetFailure):
    """The float64 reference is NaN or infinite at the inputs."""


def _localise(
    vjps: list[_Compared], sides, cotangents: list[Tensor], eps, rtol, atol
) -> list[JacobianEntry]:
    """The Jacobian entries behind the worst wrong products, found by bisecting the outputs.

    For a wrong element j of vᵀJ, the outputs are halved again and again, keeping the half
    whose masked grad_output carries more of the kernel's difference from the float64
    reference in element j (backward passes only: about 2·log2(M) of them). The entry found
    is then compared on its own, with the budget of its Jacobian row.
    """
    kernel, low, truth = sides
    wanted: list[tuple[float, _Compared, int]] = []
    for c in vjps:
        for local in torch.nonzero(c.bad).flatten().tolist():
            wanted.append((float(c.score[local]), c, local))
    wanted.sort(key=lambda item: item[0], reverse=True)
    found: list[JacobianEntry] = []
    done: set[int] = set()
    for _, c, local in wanted:
        if len(done) >= LOCALISE_COLUMNS:
            break
        column = c.columns.start + local  # type: ignore[union-attr]
        if column in done:
            continue
        done.add(column)
        v = cotangents[c.cotangent]  # type: ignore[index]
        rows = torch.nonzero(v).flatten()
        gap = float(c.kernel[local] - c.truth[local])
        while rows.numel() > 1:
            half = rows[: rows.numel() // 2]
            masked = torch.zeros_like(v)
            masked[half] = v[half]
            first = float(kernel.vjp(masked)[column] - truth.vjp(masked)[column])
            if abs(first) >= abs(gap - first):
                rows, gap = half, first
            else:
                rows, gap = rows[rows.numel() // 2 :], gap - first
        if rows.numel() == 0:
            continue
        row = int(rows[0])
        onehot = torch.zeros_like(v)
        onehot[row] = 1.0
        t, r, k = truth.vjp(onehot), low.vjp(onehot), kernel.vjp(onehot)
        s = c.columns
        bound, _, _ = error_budget(t[s], r[s], eps, rtol=rtol, atol=atol)
        kv, tv, rv = float(k[column]), float(t[column]), float(r[column])
        diff = abs(kv - tv)
        allowed = float(bound[local])
        if not diff > allowed:
            continue  # the difference is spread over many outputs: the product stays shown
        out_name, out_index = _locate(truth.out_names, truth.out_shapes, row)
        _, _, name, in_index = c.where(local)
        rel = diff / abs(tv) if tv != 0 else math.inf
        found.append(
            JacobianEntry(
                out_name,
                out_index,
                name,
                in_index,
                kv,
                tv,
                diff,
                rel,
                allowed,
                0.0,
                reference=rv,
            )
        )
    return found


def _ranked_entries(compared: list[_Compared]) -> list[JacobianEntry]:
    """The worst elements over all compared tensors, most outside their budget first."""
    candidates: list[tuple[float, _Compared, int]] = []
    for c in compared:
        if c.score.numel() == 0:
            continue
        count = min(TOP, c.score.numel())
        scores = torch.nan_to_num(c.score, nan=math.inf)
        top = torch.topk(scores, count)
        for value, index in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            candidates.append((value, c, index))
    candidates.sort(key=lambda item: item[0], reverse=True)
    entries = []
    for _, c, index in candidates[: TOP * 4]:
        out_name, out_index, in_name, in_index = c.where(index)
        k, t = float(c.kernel[index]), float(c.truth[index])
        diff = abs(k - t)
        rel = diff / abs(t) if t != 0 else (0.0 if diff == 0 else math.inf)
        entries.append(
            JacobianEntry(
                out_name,
                out_index,
                in_name,
                in_index,
                k,
                t,
                diff,
                rel,
                float(c.bound[index]),
                0.0,
                reference=float(c.reference[index]),
            )
        )
    entries.sort(key=badness, reverse=True)
    return entries


def _cause(
    vjps, jacobians, kernel, low, truth, v, slices, shapes, eps, rtol, atol
) -> GradientCause | None:
    """The causes.py rules, first match wins, with the float64 reference as the "numeric" side:
    NaN, missing gradient, ignored grad_output, swapped/transposed (whole Jacobian only), then
    sign or constant factor over the wrong entries."""
    grads = [*vjps, *jacobians]
    for c in grads:
        if bool((~torch.isfinite(c.kernel) & torch.isfinite(c.truth)).any()):
            return causes.nan_cause(1)
    missing = []
    for name, _ in slices:
        own = [c for c in vjps if c.quantity.endswith("→ " + name)]
        if any(bool(c.bad.any()) for c in own) and (
            name in kernel.unused or all(bool((c.kernel == 0).all()) for c in own)
        ):
            missing.append(name)
    if missing:
        return causes.missing_cause(
            missing, unused=sorted(kernel.unused), no_graph=kernel.no_graph, order=1
        )
    if any(bool(c.bad.any()) for c in vjps):
        # backward(v) of the kernel equals the truth's backward(ones): grad_output is ignored.
        ones = torch.ones(truth.m, dtype=torch.float64)
        t1, r1 = truth.vjp(ones), low.vjp(ones)
        k_v = kernel.vjp(v)
        bound, _, _ = error_budget(t1, r1, eps, rtol=rtol, atol=atol)
        t_v = truth.vjp(v)
        if bool(((k_v - t1).abs() <= bound).all()) and not bool(((t_v - t1).abs() <= bound).all()):
            return causes.ignores_grad_output_cause()
    if jacobians:
        m = truth.m
        a = torch.cat([c.kernel.reshape(m, -1) for c in jacobians], dim=1)
        f = torch.cat([c.truth.reshape(m, -1) for c in jacobians], dim=1)
        allowed = torch.cat([c.bound.reshape(m, -1) for c in jacobians], dim=1)
        bad = torch.cat([c.bad.reshape(m, -1) for c in jacobians], dim=1)
        found = causes.structural_cause(a, f, allowed, bad, slices, shapes)
        if found is not None:
            return found
        pool = jacobians
    else:
        pool = vjps
    a = torch.cat([c.kernel[c.bad] for c in pool])
    f = torch.cat([c.truth[c.bad] for c in pool])
    allowed = torch.cat([c.bound[c.bad] for c in pool])
    nonzero = sum(int(((c.truth.abs() > c.bound) | (c.kernel != 0)).sum()) for c in pool)
    whole = nonzero == int(a.numel())
    # A "factor" must stand out from the dtype's rounding (and from 1 by more than 0.1%).
    found = causes.entry_cause(a, f, allowed, whole=whole, rtol=max(eps, 1e-4))
    if found is not None and found.id == "factor" and int((f.abs() > allowed).sum()) < 2:
        return None if not whole else found  # one usable ratio is no pattern
    return found


def _slices(names: Sequence[str], sizes: Sequence[int]) -> list[tuple[str, slice]]:
    out, start = [], 0
    for name, size in zip(names, sizes, strict=True):
        out.append((name, slice(start, start + size)))
        start += size
    return out


def _locate(names, shapes, flat: int) -> tuple[str, tuple[int, ...]]:
    for name, shape in zip(names, shapes, strict=True):
        size = math.prod(shape)
        if flat < size:
            return name, _unravel(flat, shape)
        flat -= size
    raise IndexError(flat)


def _shift(where, offset: int):
    return lambda flat: where(flat + offset)


def _describe(side: _Side) -> str:
    return ", ".join(
        f"{n} {tuple(s)}" for n, s in zip(side.out_names, side.out_shapes, strict=True)
    )


# ------------------------------------------------------------------------------ targets


def check_pairs(
    make: Callable[[int, bool], Pair],
    name: str,
    kind: str,
    line: int | None,
    settings: Settings,
    *,
    file: str | None = None,
    samples: int | None = None,
) -> TargetResult:
    """Compare on ``samples`` input draws from ``make(sample, positive)``; one TargetResult."""
    from gradx.commands.check.session import _result, error_info

    start = time.perf_counter()
    dtype = DTYPES[settings.dtype]
    checks: list[GradCheck] = []
    try:
        for sample in range(samples if samples is not None else settings.samples):
            pair = make(sample, False)
            try:
                check = _one(pair, settings, dtype, sample)
            except NonFiniteReference:
                if not pair.random:
                    raise
                # log, sqrt, pow of random negative numbers: try positive numbers once.
                pair = make(sample, True)
                check = _one(pair, settings, dtype, sample)
            checks.append(check)
    except KeyboardInterrupt:
        raise
    except (TargetFailure, InputError) as exc:
        return _result(name, kind, line, checks, start, ErrorInfo("", str(exc)))
    except MemoryError:
        return _result(name, kind, line, checks, start, ErrorInfo("MemoryError", "out of memory"))
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        return _result(name, kind, line, checks, start, error_info(exc, file))
    return _result(name, kind, line, checks, start, None)


def _one(pair: Pair, settings: Settings, dtype: torch.dtype, sample: int) -> GradCheck:
    at = tuple((n, describe_value(t)) for n, t in zip(pair.names, pair.base, strict=True))
    return compare_pair(
        pair,
        dtype=dtype,
        device=settings.device,
        seed=settings.seed,
        sample=sample,
        rtol=settings.rtol,
        atol=settings.atol,
        against=settings.against or "the reference",
        at=at,
    )


def check_against(
    target: Target, reference: Target, spec: InputSpec, settings: Settings
) -> TargetResult:
    """``gradx check FILE::kernel --against FILE::reference`` for one kernel (worker side)."""
    from gradx.user_script.inputs import make_inputs

    dtype = DTYPES[settings.dtype]

    def make(sample: int, positive: bool) -> Pair:
        inputs = make_inputs(
            target, spec, seed=settings.seed, sample=sample, dtype=torch.float64, positive=positive
        )
        return make_pair(inputs, reference.obj, reference.kind, seed=settings.seed, dtype=dtype)

    return check_pairs(make, target.name, target.kind, target.line, settings, file=target.file)


def load_reference(text: str, found: Any) -> Target:
    """The reference target of ``--against FILE::NAME`` (the kernel's file loaded as ``found``)."""
    from pathlib import Path

    from gradx.errors import GradxError
    from gradx.user_script.spec import split_target
    from gradx.user_script.targets import find_targets, load_module, select

    path, name = split_target(text)
    if name is None:
        raise GradxError(f"--against {text}: name the reference, e.g. --against {path}::reference")
    own = Path(getattr(found.module, "__file__", "") or "")
    other = found if path.resolve() == own.resolve() else find_targets(load_module(path))
    target = select(other, name)
    if target.kind not in (FUNCTION, AUTOGRAD_FUNCTION, MODULE):  # pragma: no cover
        raise GradxError(f"--against {text}: not a function, Function or Module")
    return target
