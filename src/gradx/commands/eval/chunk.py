"""One batch of points through every stage: autograd, sympy, finite differences, verdicts.

``PointwiseEvaluator.evaluate`` takes the coordinates of a chunk and returns a ``Block`` of
per-point tensors; ``Block.rows`` turns chosen points into ``PointResult`` rows with notes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp
import torch

from gradx.commands.eval import special_points
from gradx.commands.eval.autograd_derivatives import (
    derivative_keys_up_to,
    values_and_derivatives,
)
from gradx.commands.eval.model import (
    STATUS_RANK,
    DerivativeResult,
    EvalHeader,
    PointResult,
    Status,
    key_label,
)
from gradx.expression.sympy_on_torch import SymbolicUnsupported, evaluate_sympy
from gradx.expression.to_sympy import DerivativeTooLarge, derivative, symbol, to_sympy
from gradx.expression.to_torch import evaluate
from gradx.expression.tree import OPERATORS, ParsedExpression
from gradx.expression.vocabulary import FUNCTIONS, breakpoints_of
from gradx.numerics import finite_difference as fd
from gradx.numerics.settings import DType
from gradx.numerics.tolerances import Tolerance, tolerance_for

Tensor = torch.Tensor
Key = tuple[str, ...]

_CODES = (Status.OK, Status.NONDIFFERENTIABLE, Status.DOMAIN, Status.MISMATCH)
OK, NONDIFF, DOMAIN, MISMATCH = range(4)
SYMPY_REFINE_LIMIT = 64  # points per chunk re-evaluated by sympy at high precision

# Why a derivative got its status, for the note.
(
    R_NONE,
    R_VALUE_DOMAIN,
    R_OVERFLOW,
    R_KINK,
    R_KINK_NAN,
    R_DERIV_DOMAIN,
    R_ONE_NONFINITE,
    R_DIFFER,
    R_NO_NUMERIC,  # ok, judged on symbolic alone: f is undefined next to the point
    R_NO_SYMBOLIC,  # ok, judged on numeric alone: sympy's formula is NaN (0*inf) here
) = range(10)


class PointwiseEvaluator:
    """Evaluates one parsed expression, its derivatives and their references on batches."""

    def __init__(
        self,
        parsed: ParsedExpression,
        wrt: tuple[str, ...],
        order: int,
        dtype: str,
        rtol: float | None,
        atol: float | None,
    ) -> None:
        self.parsed = parsed
        self.wrt = wrt
        self.order = order
        self.dtype_name = DType.parse(dtype)
        self.dtype = self.dtype_name.torch
        self.tol: Tolerance = tolerance_for(dtype, rtol, atol)
        self.keys: tuple[Key, ...] = derivative_keys_up_to(wrt, order)
        self.skipped: dict[Key, str] = {}
        self.expr = to_sympy(parsed)
        self.symbolic: tuple[sp.Expr | None, ...] = tuple(self._derivative(k) for k in self.keys)
        self.non_smooth = parsed.uses(*(n for n in (*FUNCTIONS, *OPERATORS) if breakpoints_of(n)))

    def _derivative(self, key: Key) -> sp.Expr | None:
        try:
            return derivative(self.expr, key)
        except DerivativeTooLarge as why:
            self.skipped[key] = f"(not computed: the symbolic derivative has {why})"
            return None

    def header(self) -> EvalHeader:
        """Text forms of f and its derivatives, and the settings."""
        return EvalHeader(
            expression=self.parsed.source,
            variables=self.parsed.variables,
            wrt=self.wrt,
            order=self.order,
            dtype=self.dtype_name,
            keys=self.keys,
            expression_text=_text(self.expr),
            expression_pretty=_pretty(self.expr),
            derivatives=tuple(
                _text(d) if d is not None else self.skipped[k]
                for k, d in zip(self.keys, self.symbolic, strict=True)
            ),
            derivatives_pretty=tuple(
                _pretty(d) if d is not None else self.skipped[k]
                for k, d in zip(self.keys, self.symbolic, strict=True)
            ),
            rtol=self.tol.rtol,
            atol=self.tol.atol,
        )

    def f(self, env: Mapping[str, Tensor]) -> Tensor:
        """f in the working dtype (the function autograd differentiates)."""
        return evaluate(self.parsed.root, env, self.dtype)

    def f64(self, env: Mapping[str, Tensor]) -> Tensor:
        """f in float64 (for the references and the diagnosis)."""
        return evaluate(self.parsed.root, env, torch.float64)

    def evaluate(self, coords: Mapping[str, Tensor], offset: int) -> Block:
        """Every column and verdict for one chunk of points (float64 coordinates in)."""
        x = {v: t.to(self.dtype) for v, t in coords.items()}
        x64 = {v: t.to(torch.float64) for v, t in x.items()}
        n = next(iter(x.values())).shape[0]
        value, auto = values_and_derivatives(self.parsed, x, self.wrt, self.order)
        if self.dtype == torch.float64:
            value64 = value
        else:
            with torch.no_grad():
                value64 = torch.broadcast_to(self.f64(x64), (n,))
        finite_value = torch.isfinite(value)

        bp_hit = torch.zeros(n, dtype=torch.bool)
        bp_node = torch.full((n,), -1, dtype=torch.long)
        if self.non_smooth:
            values = special_points.node_values(self.parsed, x64, torch.float64)
            bp_hit, bp_node = special_points.breakpoint_hits(
                values, 16 * fd.machine_epsilon(self.dtype)
            )

        value_domain = torch.zeros(n, dtype=torch.bool)
        bad = ~finite_value
        if bool(bad.any()):
            idx = bad.nonzero().squeeze(1)
            sub = {v: t[idx] for v, t in x64.items()}
            causes = special_points.value_causes(
                special_points.node_values(self.parsed, sub, torch.float64)
            )
            overflow32 = torch.isfinite(value64[idx])
            value_domain[idx] = causes.is_domain & ~overflow32

        columns: dict[Key, KeyColumns] = {}
        for key, sym_expr in zip(self.keys, self.symbolic, strict=True):
            columns[key] = self._key_columns(key, sym_expr, x, x64, auto[key], value64)

        candidates = finite_value & bp_hit
        for col in columns.values():
            candidates = candidates | (finite_value & ~col.clean)
        kinks = self._analyse(candidates, x64)
        for key, col in columns.items():
            self._judge(key, col, x64, finite_value, value_domain, kinks, bp_hit)

        return Block(self, offset, x, value, columns, bp_node, value_domain)

    def _key_columns(
        self,
        key: Key,
        sym_expr: sp.Expr | None,
        x: Mapping[str, Tensor],
        x64: Mapping[str, Tensor],
        auto: Tensor,
        value64: Tensor,
    ) -> KeyColumns:
        n = auto.shape[0]
        symbolic: Tensor | None = None
        symbolic_error = torch.zeros(n, dtype=torch.float64)
        if sym_expr is not None:
            try:
                symbolic = evaluate_sympy(sym_expr, x64, torch.float64).clone()
            except SymbolicUnsupported:
                symbolic = None
        if symbolic is not None:
            self._refine_symbolic(sym_expr, symbolic, symbolic_error, x64, value64)
        numeric = fd.robust_derivative(self.f, x, key, target=self.tol.fd_target)
        col = KeyColumns(
            autograd=auto.to(torch.float64),
            symbolic=symbolic,
            symbolic_error=symbolic_error,
            numeric=numeric.estimate.to(torch.float64),
            numeric_error=numeric.error.to(torch.float64),
            numeric_step=numeric.step.to(torch.float64),
            status=torch.zeros(n, dtype=torch.long),
            reason=torch.zeros(n, dtype=torch.long),
        )
        col.compare(self.tol)
        return col

    def _refine_symbolic(
        self,
        sym_expr: sp.Expr,
        symbolic: Tensor,
        symbolic_error: Tensor,
        x64: Mapping[str, Tensor],
        value64: Tensor,
    ) -> None:
        """Fix symbolic values that are NaN or infinite in float64 where f is finite.

        Two causes are repaired: overflow inside the formula (``softplus'(800)`` is
        ``exp(800)/(exp(800)+1)``), by evaluating with sympy at 30 and 50 digits (kept only when
        both agree, which a true singularity does not); and removable singularities of the
        formula (``x**pi`` gives ``pi*x**pi/x``, 0/0 at 0), by the limit of the formula along
        each variable, kept only when it converges and every side agrees.
        """
        todo = (torch.isfinite(value64) & ~torch.isfinite(symbolic)).nonzero().squeeze(1)
        todo = todo[:SYMPY_REFINE_LIMIT]
        for i in todo.tolist():
            exact = _high_precision(sym_expr, {v: float(t[i]) for v, t in x64.items()})
            if exact is not None:
                symbolic[i] = exact
        still = todo[~torch.isfinite(symbolic[todo])]
        if still.numel():
            limit, error = self._symbolic_limit(sym_expr, {v: t[still] for v, t in x64.items()})
            found = torch.isfinite(limit)
            symbolic[still] = torch.where(found, limit, symbolic[still])
            symbolic_error[still] = torch.where(found, error, symbolic_error[still])

    def _symbolic_limit(
        self, sym_expr: sp.Expr, points: Mapping[str, Tensor]
    ) -> tuple[Tensor, Tensor]:
        """The limit of a symbolic formula at each point (NaN where it does not settle), and
        how far it may be from it (the change between the last two approach steps)."""
        estimates, changes = [], []
        for v in points:
            scale = torch.clamp(points[v].abs(), min=1.0)
            for side in (1.0, -1.0):
                near = []
                for delta in (1e-5, 1e-8):
                    shifted = dict(points)
                    shifted[v] = points[v] + side * delta * scale
                    try:
                        near.append(evaluate_sympy(sym_expr, shifted, torch.float64))
                    except SymbolicUnsupported:
                        nan = torch.full_like(scale, math.nan)
                        return nan, nan
                far, close = near
                change = (far - close).abs()
                settled = torch.isfinite(far) & torch.isfinite(close)
                settled &= change <= 1e-3 * torch.clamp(close.abs(), min=1.0)
                estimates.append(torch.where(settled, close, math.nan))
                changes.append(torch.where(settled, change, 0.0))
        stacked = torch.stack(estimates)
        finite = torch.isfinite(stacked)
        count = finite.sum(dim=0)
        mean = torch.where(finite, stacked, 0.0).sum(dim=0) / count.clamp(min=1)
        spread = torch.where(finite, (stacked - mean).abs(), 0.0).amax(dim=0)
        error = spread + torch.stack(changes).amax(dim=0)
        agree = (count > 0) & (spread <= 1e-3 * torch.clamp(mean.abs(), min=1.0))
        return torch.where(agree, mean, math.nan), torch.where(agree, error, math.nan)

    def _analyse(self, candidates: Tensor, x64: Mapping[str, Tensor]) -> Kinks:
        idx = candidates.nonzero().squeeze(1)
        result = Kinks(idx, {})
        if idx.numel() == 0:
            return result
        sub = {v: t[idx] for v, t in x64.items()}
        for v in self.wrt:
            result.per_variable[v] = special_points.analyse_kinks(self.f64, sub, [v], self.order)
        return result

    def _judge(
        self,
        key: Key,
        col: KeyColumns,
        x64: Mapping[str, Tensor],
        finite_value: Tensor,
        value_domain: Tensor,
        kinks: Kinks,
        bp_hit: Tensor,
    ) -> None:
        n = col.autograd.shape[0]
        kind = torch.full((n,), special_points.SMOOTH, dtype=torch.long)
        level = torch.zeros(n, dtype=torch.long)
        left = torch.full((n,), math.nan, dtype=torch.float64)
        right = torch.full((n,), math.nan, dtype=torch.float64)
        if kinks.index.numel():
            idx = kinks.index
            sub_kind = torch.full((idx.numel(),), special_points.SMOOTH, dtype=torch.long)
            sub_level = torch.zeros(idx.numel(), dtype=torch.long)
            sub_left = torch.full((idx.numel(),), math.nan, dtype=torch.float64)
            sub_right = sub_left.clone()
            clear = torch.full((idx.numel(),), math.inf, dtype=torch.float64)
            for v in dict.fromkeys(key):
                a = kinks.per_variable[v]
                # Level L: the one-sided derivatives of order L differ (0: f itself jumps),
                # so derivatives of order L and higher have no value; lower ones do.
                new = (
                    (sub_kind == special_points.SMOOTH)
                    & ((a.kind == special_points.KINK) | (a.kind == special_points.JUMP))
                    & (a.level <= len(key))
                )
                sub_kind = torch.where(new, a.kind, sub_kind)
                sub_level = torch.where(new, a.level, sub_level)
                sub_left = torch.where(new, a.left, sub_left)
                sub_right = torch.where(new, a.right, sub_right)
                edge = (sub_kind == special_points.SMOOTH) & (a.kind == special_points.EDGE)
                sub_kind = torch.where(edge, special_points.EDGE, sub_kind)
                clear = torch.minimum(clear, a.clear_step)
            kind[idx], level[idx], left[idx], right[idx] = sub_kind, sub_level, sub_left, sub_right
            self._refine_numeric(key, col, x64, idx, sub_kind, clear, bp_hit[idx])
            col.compare(self.tol)

        status = col.status
        reason = col.reason
        finite_a = torch.isfinite(col.autograd)
        sym = col.symbolic
        numeric_usable = torch.isfinite(col.numeric) & torch.isfinite(col.numeric_error)
        # A finite-difference estimate with a large error bar (next to a singularity) is no
        # evidence that the derivative exists.
        numeric_reliable = numeric_usable & (
            col.numeric_error <= 1e-3 * torch.clamp(col.numeric.abs(), min=1.0)
        )
        if sym is not None:
            sym_finite = torch.isfinite(sym)
            sym_nan = torch.isnan(sym)  # sympy's formula broke (0*inf), unlike +-inf
        else:
            sym_finite = torch.zeros_like(finite_a)
            sym_nan = torch.ones_like(finite_a)
        kinked = (kind == special_points.KINK) | (kind == special_points.JUMP)
        smooth = finite_value & ~kinked

        _set(status, reason, ~finite_value & value_domain, DOMAIN, R_VALUE_DOMAIN)
        _set(status, reason, ~finite_value & ~value_domain, MISMATCH, R_OVERFLOW)
        # At a kink a subgradient exists, so NaN is a failure; at a jump nothing is right.
        is_jump = kind == special_points.JUMP
        _set(status, reason, finite_value & kinked & (finite_a | is_jump), NONDIFF, R_KINK)
        _set(status, reason, finite_value & kinked & ~finite_a & ~is_jump, MISMATCH, R_KINK_NAN)

        # autograd NaN/inf: fine when the references say the derivative is infinite too
        exists = sym_finite | (sym_nan & numeric_reliable)
        _set(status, reason, smooth & ~finite_a & ~exists, DOMAIN, R_DERIV_DOMAIN)
        _set(status, reason, smooth & ~finite_a & exists, MISMATCH, R_ONE_NONFINITE)

        # autograd finite: compare with every reference that is usable here
        both = smooth & finite_a & sym_finite & numeric_usable
        _set(status, reason, both & col.sym_ok & col.num_ok, OK, R_NONE)
        _set(status, reason, both & ~(col.sym_ok & col.num_ok), MISMATCH, R_DIFFER)
        sym_only = smooth & finite_a & sym_finite & ~numeric_usable
        _set(status, reason, sym_only & col.sym_ok, OK, R_NO_NUMERIC)
        _set(status, reason, sym_only & ~col.sym_ok, MISMATCH, R_DIFFER)
        num_only = smooth & finite_a & sym_nan & numeric_reliable
        _set(status, reason, num_only & col.num_ok, OK, R_NO_SYMBOLIC)
        _set(status, reason, num_only & ~col.num_ok, MISMATCH, R_DIFFER)
        no_reference = smooth & finite_a & ~sym_finite & ~(sym_nan & numeric_reliable)
        _set(status, reason, no_reference, MISMATCH, R_ONE_NONFINITE)
        col.kind, col.level, col.left, col.right = kind, level, left, right

    def _refine_numeric(
        self,
        key: Key,
        col: KeyColumns,
        x64: Mapping[str, Tensor],
        idx: Tensor,
        sub_kind: Tensor,
        clear: Tensor,
        on_breakpoint: Tensor,
    ) -> None:
        """Redo the finite differences of smooth points that the first pass may have misjudged.

        Near a kink (closer than the stencil reaches) the central stencil is redone with a step
        that does not straddle it. On a breakpoint that turned out smooth (``x*abs(x)`` at 0)
        a higher derivative jumps there, which breaks the error expansion of central
        differences: the mean of the one-sided estimates, which never straddle, is used.
        """
        reach = float((len(key) + 1) // 2)
        smooth = sub_kind == special_points.SMOOTH
        base = col.numeric_step[idx]
        step_of = torch.minimum(base.to(torch.float64), clear)
        near = smooth & torch.isfinite(clear) & (clear < base * reach * 1.0001)
        for mask, one_sided in ((near, False), (smooth & on_breakpoint, True)):
            if not bool(mask.any()):
                continue
            where = idx[mask]
            sub = {v: t[where] for v, t in x64.items()}
            step = torch.pow(2.0, torch.floor(torch.log2(step_of[mask] / max(reach, 1.0))))
            steps = {
                v: step
                * torch.clamp(sub[v].abs(), min=1.0)
                / torch.clamp(sub[key[0]].abs(), min=1.0)
                for v in dict.fromkeys(key)
            }
            if one_sided:
                right = fd.derivative(self.f64, sub, key, scheme=fd.FORWARD, steps=steps)
                left = fd.derivative(self.f64, sub, key, scheme=fd.BACKWARD, steps=steps)
                estimate = (right.estimate + left.estimate) / 2
                error = (right.estimate - left.estimate).abs() / 2 + right.error + left.error
            else:
                again = fd.derivative(self.f64, sub, key, steps=steps)
                estimate, error = again.estimate, again.error
            ok = torch.isfinite(estimate) & torch.isfinite(error)
            col.numeric[where] = torch.where(ok, estimate, col.numeric[where])
            col.numeric_error[where] = torch.where(ok, error, col.numeric_error[where])
            col.numeric_step[where] = torch.where(ok, step, col.numeric_step[where])


@dataclass
class Kinks:
    """Kink analyses of the candidate points (``index``), one per variable."""

    index: Tensor
    per_variable: dict[str, special_points.KinkAnalysis]


@dataclass
class KeyColumns:
    """Per-point columns for one derivative."""

    autograd: Tensor
    symbolic: Tensor | None
    symbolic_error: Tensor  # 0, or the uncertainty of a symbolic value obtained as a limit
    numeric: Tensor
    numeric_error: Tensor
    numeric_step: Tensor
    status: Tensor
    reason: Tensor
    sym_ok: Tensor = field(init=False)
    num_ok: Tensor = field(init=False)
    clean: Tensor = field(init=False)
    kind: Tensor | None = None
    level: Tensor | None = None
    left: Tensor | None = None
    right: Tensor | None = None

    def compare(self, tol: Tolerance) -> None:
        """Recompute the agreement masks from the current columns."""
        a = self.autograd
        if self.symbolic is not None:
            s = self.symbolic
            self.sym_ok = (a - s).abs() <= tol.atol + tol.rtol * s.abs() + self.symbolic_error
        else:
            self.sym_ok = torch.isfinite(a)
        n, e = self.numeric, self.numeric_error
        self.num_ok = (a - n).abs() <= 2 * e + tol.fd_atol + tol.fd_rtol * n.abs()
        self.clean = self.sym_ok & self.num_ok & torch.isfinite(a)

    def agree(self) -> Tensor:
        """Autograd agrees with both references."""
        return self.sym_ok & self.num_ok

    def error(self) -> Tensor:
        """How far autograd is from each reference beyond that reference's own uncertainty
        (0 for exact symbolic values, the error estimate for numeric ones), relative to
        max(1, |reference|); the larger of the two."""
        a = self.autograd
        parts = []
        if self.symbolic is not None:
            s = self.symbolic
            beyond = torch.clamp((a - s).abs() - self.symbolic_error, min=0.0)
            parts.append(
                torch.where(torch.isfinite(s), beyond / torch.clamp(s.abs(), min=1.0), 0.0)
            )
        n = self.numeric
        excess = torch.clamp((a - n).abs() - 2 * self.numeric_error, min=0.0)
        parts.append(torch.where(torch.isfinite(n), excess / torch.clamp(n.abs(), min=1.0), 0.0))
        out = parts[0]
        for p in parts[1:]:
            out = torch.maximum(out, p)
        return out


def _set(status: Tensor, reason: Tensor, mask: Tensor, code: int, why: int) -> None:
    status.masked_fill_(mask, code)
    reason.masked_fill_(mask, why)


class Block:
    """The evaluated columns of one chunk, and the conversion of chosen points to rows."""

    def __init__(
        self,
        evaluator: PointwiseEvaluator,
        offset: int,
        x: Mapping[str, Tensor],
        value: Tensor,
        columns: dict[Key, KeyColumns],
        bp_node: Tensor,
        value_domain: Tensor,
    ) -> None:
        self.ev = evaluator
        self.offset = offset
        self.x = x
        self.value = value.to(torch.float64)
        self.columns = columns
        self.bp_node = bp_node
        self.value_domain = value_domain
        stacked = torch.stack([c.status for c in columns.values()])
        self.status = stacked.max(dim=0).values
        errors = []
        for col in columns.values():
            err = col.error()
            keep = (col.status == OK) | ((col.status == MISMATCH) & torch.isfinite(col.autograd))
            errors.append(torch.where(keep, err, math.nan))
        self.key_errors = errors
        stacked_err = torch.stack(errors)
        self.error = torch.where(
            torch.isnan(stacked_err).all(dim=0),
            math.nan,
            torch.nan_to_num(stacked_err, nan=-1.0).max(dim=0).values,
        )

    def status_counts(self) -> dict[Status, int]:
        """How many points got each status."""
        counts = torch.bincount(self.status, minlength=4).tolist()
        return {code: counts[i] for i, code in enumerate(_CODES)}

    def worst(self) -> tuple[PointResult, Key] | None:
        """The row with the largest error, and the derivative it belongs to."""
        err = torch.nan_to_num(self.error, nan=-1.0)
        if err.numel() == 0 or float(err.max()) < 0:
            return None
        i = int(err.argmax())
        row = self.rows([i])[0]
        key_errs = [float(torch.nan_to_num(e[i], nan=-1.0)) for e in self.key_errors]
        return row, self.ev.keys[max(range(len(key_errs)), key=key_errs.__getitem__)]

    def interesting(self, not_ok: int, worst: int, *, first: bool, last: bool) -> list[int]:
        """Indices worth showing in a long run: first non-ok points, worst errors, the ends."""
        chosen: set[int] = set()
        if not_ok > 0:
            chosen.update((self.status != OK).nonzero().squeeze(1)[:not_ok].tolist())
        err = torch.nan_to_num(self.error, nan=-1.0)
        k = min(worst, err.numel())
        if k:
            chosen.update(i for i in torch.topk(err, k).indices.tolist() if err[i] > 0)
        n = self.status.shape[0]
        if first and n:
            chosen.add(0)
        if last and n:
            chosen.add(n - 1)
        return sorted(chosen)

    def rows(self, indices: Iterable[int]) -> tuple[PointResult, ...]:
        """Rows for the given local indices, with their notes."""
        indices = list(indices)
        if not indices:
            return ()
        sel = torch.tensor(indices, dtype=torch.long)
        coords = {v: t.to(torch.float64)[sel].tolist() for v, t in self.x.items()}
        values = self.value[sel].tolist()
        status = self.status[sel].tolist()
        errors = self.error[sel].tolist()
        notes = _Notes(self, sel)
        per_key = []
        for k, (key, col) in enumerate(self.columns.items()):
            sym = col.symbolic[sel].tolist() if col.symbolic is not None else [None] * len(indices)
            per_key.append(
                (
                    key,
                    col.autograd[sel].tolist(),
                    sym,
                    col.numeric[sel].tolist(),
                    col.numeric_error[sel].tolist(),
                    self.key_errors[k][sel].tolist(),
                    col.status[sel].tolist(),
                )
            )
        out = []
        variables = self.ev.parsed.variables
        for j, i in enumerate(indices):
            derivs = []
            for k, (key, auto, sym, num, nerr, kerr, kstat) in enumerate(per_key):
                derivs.append(
                    DerivativeResult(
                        key=key,
                        autograd=auto[j],
                        symbolic=sym[j],
                        numeric=num[j],
                        numeric_error=nerr[j],
                        error=None if math.isnan(kerr[j]) else kerr[j],
                        status=_CODES[kstat[j]],
                        note=notes.note(j, k),
                    )
                )
            not_ok = [d for d in derivs if d.note]
            if len(derivs) == 1 or not not_ok:
                note = " ".join(d.note for d in not_ok)
            else:
                # one cause said once: a kink of f is why f' and f'' both have none
                same: dict[str, list[str]] = {}
                for d in not_ok:
                    same.setdefault(d.note, []).append(key_label(d.key, variables))
                note = "; ".join(f"{', '.join(labels)}: {text}" for text, labels in same.items())
            out.append(
                PointResult(
                    index=self.offset + i,
                    at=tuple((v, coords[v][j]) for v in variables),
                    value=values[j],
                    derivatives=tuple(derivs),
                    status=_CODES[status[j]],
                    error=None if math.isnan(errors[j]) else errors[j],
                    note=note,
                )
            )
        return tuple(out)


class _Notes:
    """Builds the explanation of each non-ok derivative for a few selected points."""

    def __init__(self, block: Block, sel: Tensor) -> None:
        self.block = block
        self.sel = sel
        self._values: special_points.NodeValues | None = None

    def values(self) -> special_points.NodeValues:
        if self._values is None:
            x64 = {v: t.to(torch.float64)[self.sel] for v, t in self.block.x.items()}
            self._values = special_points.node_values(self.block.ev.parsed, x64, torch.float64)
        return self._values

    def note(self, j: int, k: int) -> str:
        block = self.block
        col = list(block.columns.values())[k]
        i = int(self.sel[j])
        reason = int(col.reason[i])
        a = float(col.autograd[i])
        s = float(col.symbolic[i]) if col.symbolic is not None else None
        n = float(col.numeric[i])
        if reason == R_NONE:
            return ""
        if reason == R_NO_NUMERIC:
            return (
                "no numeric check: f is undefined next to this point; judged against symbolic alone"
            )
        if reason == R_NO_SYMBOLIC:
            if col.symbolic is None:
                return (
                    "no symbolic check (the formula was not computed); judged against numeric alone"
                )
            return "sympy's formula is undefined here (nan); judged against numeric alone"
        if reason in (R_VALUE_DOMAIN, R_OVERFLOW):
            causes = special_points.value_causes(self.values())
            node = int(causes.node[j])
            if block.ev.dtype != torch.float64 and reason == R_OVERFLOW:
                v64 = float(
                    block.ev.f64(
                        {v: t.to(torch.float64)[i : i + 1] for v, t in block.x.items()}
                    ).reshape(-1)[0]
                )
                if math.isfinite(v64):
                    return (
                        f"f overflows {block.ev.dtype_name} here (its float64 value is {_g(v64)})"
                    )
            if node >= 0:
                return special_points.describe_value_cause(self.values(), node, j)
            return f"f is {_g(float(block.value[i]))} here"
        if reason in (R_KINK, R_KINK_NAN):
            return self._kink_note(col, i, j, a, s)
        if reason == R_DERIV_DOMAIN:
            causes = special_points.derivative_causes(self.values())
            node = int(causes.node[j])
            what = f"the derivative is {_g(a)} here (symbolic: {_g(s) if s is not None else 'n/a'})"
            if node >= 0:
                return f"{what}: {special_points.describe_derivative_cause(self.values(), node, j)}"
            return what
        if reason == R_ONE_NONFINITE:
            if not math.isfinite(a):
                ref = (
                    f"symbolic {_g(s)}"
                    if s is not None and math.isfinite(s)
                    else f"numeric {_g(n)}"
                )
                return (
                    f"autograd gives {_g(a)} but the derivative is finite here ({ref})"
                    + self._where_nan(j)
                )
            if s is not None and math.isnan(s):
                return (
                    f"autograd gives {_g(a)}; sympy's formula is undefined here and finite "
                    f"differences do not settle ({_g(n)} ± {_g(float(col.numeric_error[i]))})"
                )
            return f"autograd gives {_g(a)} but symbolic gives {_g(s)}"
        # R_DIFFER: everything finite, autograd disagrees with a reference.
        e = float(col.numeric_error[i])
        sym_bad = s is not None and not bool(col.sym_ok[i])
        num_bad = not bool(col.num_ok[i])
        refs_agree = s is not None and abs(n - s) <= 2 * e + 1e-8 * max(1.0, abs(s))
        if sym_bad and num_bad and refs_agree:
            note = f"autograd gives {_g(a)}, but symbolic and numeric agree on {_g(s)}"
            bp = int(block.bp_node[i])
            if bp >= 0:
                note += (
                    f": {special_points.describe_breakpoint(self.values(), bp)} is at its breakpoint, where "
                    "torch's convention does not give the derivative of the whole expression"
                )
            return note
        if sym_bad:
            diff = abs(a - s)
            note = f"autograd differs from symbolic by {_g(diff)} (relative {_g(diff / max(abs(s), 1e-300))})"
            if not num_bad:
                note += f"; numeric agrees with autograd within its error estimate {_g(e)}"
            else:
                note += f"; numeric gives {_g(n)} ± {_g(e)}"
            return note
        return (
            f"autograd agrees with symbolic, but numeric differs by {_g(abs(a - n))}, beyond its "
            f"error estimate {_g(e)}: finite differences are unreliable here"
        )

    def _kink_note(self, col: KeyColumns, i: int, j: int, a: float, s: float | None) -> str:
        assert col.level is not None and col.left is not None and col.right is not None
        level = int(col.level[i])
        left, right = _snap(float(col.left[i]), float(col.right[i]))
        kind = int(col.kind[i]) if col.kind is not None else special_points.KINK
        if kind == special_points.JUMP:
            what = f"f jumps here (left limit {_g(left)}, right limit {_g(right)})"
        elif level == 1:
            what = f"kink: left derivative {_g(left)}, right derivative {_g(right)}"
        else:
            what = (
                f"derivative {level - 1} has a kink here (left {_ordinal(level)} derivative "
                f"{_g(left)}, right {_g(right)})"
            )
        bp = int(self.block.bp_node[i])
        at = (
            f" ({special_points.describe_breakpoint(self.values(), bp)} at its breakpoint)"
            if bp >= 0
            else ""
        )
        sym = f"; sympy gives {_g(s)}" if s is not None else ""
        if math.isfinite(a):
            return f"{what}{at}; torch autograd returns {_g(a)} here by convention{sym}"
        if kind == special_points.JUMP:
            return f"{what}{at}; torch autograd returns {_g(a)} here{sym}"
        return (
            f"{what}{at}; torch autograd returns {_g(a)}, which is not a usable gradient{sym}"
            + self._where_nan(j)
        )

    # ---- lang: the where() NaN (the untaken branch's NaN gradient), see where_nan.py
    def _where_nan(self, j: int) -> str:
        if not self.block.ev.parsed.uses("where"):
            return ""
        from gradx.commands.eval.where_nan import untaken_branch_note

        return untaken_branch_note(self.values(), j)


def _high_precision(expr: sp.Expr, point: Mapping[str, float]) -> float | None:
    """The value of ``expr`` at ``point`` computed by sympy at 30 and at 50 digits, if they agree."""
    values = []
    for digits in (30, 50):
        subs = {symbol(v): sp.Float(x, digits) for v, x in point.items()}
        try:
            value = complex(expr.evalf(digits, subs=subs))
        except Exception:  # noqa: BLE001 - sympy raises many kinds (PrecisionExhausted...); no value
            return None
        if not math.isfinite(value.real) or abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
            return None
        values.append(value.real)
    first, second = values
    return second if abs(first - second) <= 1e-9 * max(abs(second), 1e-300) else None


def _snap(left: float, right: float) -> tuple[float, float]:
    """Round one-sided estimates to what finite differences can resolve (no ``-6.9e-09``)."""
    scale = max(
        1.0, abs(left) if math.isfinite(left) else 0.0, abs(right) if math.isfinite(right) else 0.0
    )

    def snap(v: float) -> float:
        if not math.isfinite(v):
            return v
        return 0.0 if abs(v) < 1e-6 * scale else float(f"{v:.6g}")

    return snap(left), snap(right)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _g(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _text(expr: sp.Expr) -> str:
    """sympy's one-line text of ``expr``; sympy's printer recurses once per level of nesting."""
    try:
        return sp.sstr(expr)
    except RecursionError:
        return "(nested too deeply to print)"


def _pretty(expr: sp.Expr) -> str:
    """A one-line Unicode form: ``x²·exp(-x²/10)``, ``√(x)``, ``π``.

    sympy's 2-D ``pretty`` imports sympy.physics (0.2 s) and grows tall and wide for the
    derivatives of modest expressions; this stays one line and costs nothing.
    """
    text = _text(expr)
    text = re.sub(
        r"\*\*(?:\((-?\d+)\)|(\d+)(?![\d.]))",
        lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPT),
        text,
    )
    text = text.replace("**", "^").replace("*", "·").replace("sqrt(", "√(")
    return re.sub(r"\bpi\b", "π", text)


__all__ = ["PointwiseEvaluator", "Block", "STATUS_RANK"]
