"""One batch of points through every stage: autograd, sympy, finite differences, verdicts.

``PointwiseEvaluator.evaluate`` takes the coordinates of a chunk and returns a ``Block`` of
per-point tensors; ``Block.rows`` turns chosen points into ``PointResult`` rows with notes.
The verdicts come from the rule table in ``verdicts.py`` (this module only measures the facts
it is written over) and the notes from ``notes.py`` (fed plain per-point values).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp
import torch

from gradx.commands.eval import special_points, verdicts
from gradx.commands.eval.autograd_derivatives import (
    derivative_keys_up_to,
    values_and_derivatives,
)
from gradx.commands.eval.model import (
    DerivativeResult,
    EvalHeader,
    PointResult,
    Status,
    key_label,
)
from gradx.commands.eval.notes import DerivativeFacts, note
from gradx.commands.eval.verdicts import CODE, NO_DERIVATIVE, STATUSES, Reason
from gradx.expression.sympy_on_torch import SymbolicUnsupported, evaluate_sympy
from gradx.expression.to_sympy import DerivativeTooLarge, derivative, symbol, to_sympy
from gradx.expression.to_torch import evaluate
from gradx.expression.tree import OPERATORS, ParsedExpression
from gradx.expression.vocabulary import FUNCTIONS, breakpoints_of
from gradx.numerics import finite_difference as fd
from gradx.numerics.settings import DType
from gradx.numerics.tolerances import Tolerance, tolerance_for
from gradx.text import superscript
from gradx.translations import Phrase, phrase

Tensor = torch.Tensor
Key = tuple[str, ...]

SYMPY_REFINE_LIMIT = 64  # points per chunk re-evaluated by sympy at high precision
OK, MISMATCH = CODE[Status.OK], CODE[Status.MISMATCH]
# A finite-difference estimate with a larger relative error bar (next to a singularity) is no
# evidence on its own that the derivative exists, nor that autograd's value is right.
PRECISE_NUMERIC = 1e-3


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

        facts = col.facts(finite_value, value_domain, kind)
        col.status, col.reason = verdicts.judge(facts)
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
    num_consistent: Tensor = field(init=False)
    num_usable: Tensor = field(init=False)
    clean: Tensor = field(init=False)
    kind: Tensor | None = None
    level: Tensor | None = None
    left: Tensor | None = None
    right: Tensor | None = None

    def compare(self, tol: Tolerance) -> None:
        """Recompute the agreement masks from the current columns."""
        a = self.autograd
        n, e = self.numeric, self.numeric_error
        if self.symbolic is not None:
            s = self.symbolic
            self.sym_ok = (a - s).abs() <= tol.atol + tol.rtol * s.abs() + self.symbolic_error
            # The numeric estimate must agree with the exact value within its own error bar,
            # or that bar is wrong (aliasing of sin at |x| ~ 1e10 gives a tiny bar on 0).
            slack = 2 * e + tol.fd_atol + tol.fd_rtol * s.abs() + self.symbolic_error
            self.num_consistent = ~torch.isfinite(s) | ((n - s).abs() <= slack)
        else:
            self.sym_ok = torch.isfinite(a)
            self.num_consistent = torch.ones_like(self.sym_ok)
        self.num_ok = (a - n).abs() <= 2 * e + tol.fd_atol + tol.fd_rtol * n.abs()
        self.num_usable = torch.isfinite(n) & torch.isfinite(e)
        self.clean = self.sym_ok & self.num_ok & torch.isfinite(a)

    def facts(self, finite_value: Tensor, value_domain: Tensor, kind: Tensor) -> dict[str, Tensor]:
        """The per-point facts the verdict rules (``verdicts.RULES``) are written over."""
        a, n, e = self.autograd, self.numeric, self.numeric_error
        if self.symbolic is not None:
            sym_finite = torch.isfinite(self.symbolic)
            sym_nan = torch.isnan(self.symbolic)  # sympy's formula broke (0*inf), unlike +-inf
            sym_missing = torch.zeros_like(sym_finite)
        else:
            sym_finite = sym_nan = torch.zeros_like(finite_value)
            sym_missing = torch.ones_like(finite_value)
        return {
            "value_finite": finite_value,
            "value_domain": value_domain,
            "kinked": (kind == special_points.KINK) | (kind == special_points.JUMP),
            "jump": kind == special_points.JUMP,
            "auto_finite": torch.isfinite(a),
            "sym_finite": sym_finite,
            "sym_missing": sym_missing,
            "sym_nan": sym_nan,
            "num_usable": self.num_usable,
            "num_consistent": self.num_consistent,
            "num_precise": e <= PRECISE_NUMERIC * torch.clamp(n.abs(), min=1.0),
            "sym_agrees": self.sym_ok,
            "num_agrees": self.num_ok,
        }

    def error(self) -> Tensor:
        """How far autograd is from each reference that counts beyond that reference's own
        uncertainty (0 for exact symbolic values, the error estimate for numeric ones; a
        numeric estimate that contradicts the symbolic value does not count), relative to
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
        counts = torch.isfinite(n) & self.num_consistent
        parts.append(torch.where(counts, excess / torch.clamp(n.abs(), min=1.0), 0.0))
        out = parts[0]
        for p in parts[1:]:
            out = torch.maximum(out, p)
        return out


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
        counts = torch.bincount(self.status, minlength=len(STATUSES)).tolist()
        return {status: counts[i] for i, status in enumerate(STATUSES)}

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
        phrases = _Phrases(self, sel)
        per_key = []
        for k, col in enumerate(self.columns.values()):
            facts = _derivative_facts(self, col, sel, phrases)
            kerr = self.key_errors[k][sel].tolist()
            kstat = col.status[sel].tolist()
            per_key.append((facts, kerr, kstat))
        out = []
        variables = self.ev.parsed.variables
        for j, i in enumerate(indices):
            derivs = []
            for key, (facts, kerr, kstat) in zip(self.columns, per_key, strict=True):
                f = facts[j]
                no_derivative = f.reason in NO_DERIVATIVE
                derivs.append(
                    DerivativeResult(
                        key=key,
                        autograd=f.autograd,
                        symbolic=f.symbolic,
                        numeric=None if no_derivative else f.numeric,
                        numeric_error=None if no_derivative else f.numeric_error,
                        error=None if math.isnan(kerr[j]) else kerr[j],
                        status=STATUSES[kstat[j]],
                        note=note(f),
                    )
                )
            not_ok = [d.note for d in derivs if d.note is not None]
            text: Phrase | None = None
            if len(derivs) == 1 or not not_ok:
                text = not_ok[0] if not_ok else None
            else:
                # one cause said once: a kink of f is why f' and f'' both have none
                same: dict[Phrase, list[str]] = {}
                for d in derivs:
                    if d.note is not None:
                        same.setdefault(d.note, []).append(key_label(d.key, variables))
                for said, labels in reversed(same.items()):
                    part = phrase("{derivatives}: {note}", derivatives=", ".join(labels), note=said)
                    text = (
                        part if text is None else phrase("{first}; {then}", first=part, then=text)
                    )
            out.append(
                PointResult(
                    index=self.offset + i,
                    at=tuple((v, coords[v][j]) for v in variables),
                    value=values[j],
                    derivatives=tuple(derivs),
                    status=STATUSES[status[j]],
                    error=None if math.isnan(errors[j]) else errors[j],
                    note=text,
                )
            )
        return tuple(out)


def _derivative_facts(
    block: Block, col: KeyColumns, sel: Tensor, phrases: _Phrases
) -> list[DerivativeFacts]:
    """Plain per-point values of one derivative at the selected points, for the notes."""
    reasons = [Reason(r) for r in col.reason[sel].tolist()]
    auto = col.autograd[sel].tolist()
    sym = col.symbolic[sel].tolist() if col.symbolic is not None else [None] * len(reasons)
    num = col.numeric[sel].tolist()
    nerr = col.numeric_error[sel].tolist()
    sym_ok = col.sym_ok[sel].tolist()
    num_ok = col.num_ok[sel].tolist()
    values = block.value[sel].tolist()
    kind = col.kind[sel].tolist() if col.kind is not None else [special_points.SMOOTH] * len(sel)
    level = col.level[sel].tolist() if col.level is not None else [0] * len(sel)
    left = col.left[sel].tolist() if col.left is not None else [math.nan] * len(sel)
    right = col.right[sel].tolist() if col.right is not None else [math.nan] * len(sel)
    out = []
    for j, reason in enumerate(reasons):
        value_cause = value64 = derivative_cause = None
        if reason in (Reason.VALUE_DOMAIN, Reason.OVERFLOW):
            value_cause = phrases.value_cause(j)
            if reason is Reason.OVERFLOW and block.ev.dtype != torch.float64:
                value64 = phrases.value64(j)
        if reason is Reason.DERIV_DOMAIN:
            derivative_cause = phrases.derivative_cause(j)
        needs_breakpoint = reason in (Reason.KINK, Reason.KINK_NAN, Reason.DIFFER)
        # a NaN that autograd should not give: maybe an untaken where() branch's
        nan_leak = reason is Reason.KINK_NAN or (
            reason is Reason.ONE_NONFINITE and not math.isfinite(auto[j])
        )
        out.append(
            DerivativeFacts(
                reason=reason,
                autograd=auto[j],
                symbolic=sym[j],
                numeric=num[j],
                numeric_error=nerr[j],
                sym_ok=bool(sym_ok[j]),
                num_ok=bool(num_ok[j]),
                value=values[j],
                dtype=block.ev.dtype_name,
                value64=value64,
                kind=int(kind[j]),
                level=int(level[j]),
                left=left[j],
                right=right[j],
                breakpoint=phrases.breakpoint(j) if needs_breakpoint else None,
                value_cause=value_cause,
                derivative_cause=derivative_cause,
                where_nan=phrases.where_nan(j) if nan_leak else None,
            )
        )
    return out


class _Phrases:
    """Sentences about the expression at the selected points (its node values are computed
    only when a note needs one)."""

    def __init__(self, block: Block, sel: Tensor) -> None:
        self.block = block
        self.sel = sel
        self._values: special_points.NodeValues | None = None

    def values(self) -> special_points.NodeValues:
        if self._values is None:
            x64 = {v: t.to(torch.float64)[self.sel] for v, t in self.block.x.items()}
            self._values = special_points.node_values(self.block.ev.parsed, x64, torch.float64)
        return self._values

    def value_cause(self, j: int) -> Phrase | None:
        """Why f is not finite at selected point ``j``."""
        node = int(special_points.value_causes(self.values()).node[j])
        return special_points.describe_value_cause(self.values(), node, j) if node >= 0 else None

    def derivative_cause(self, j: int) -> Phrase | None:
        """Why the derivative is singular at selected point ``j``."""
        node = int(special_points.derivative_causes(self.values()).node[j])
        if node < 0:
            return None
        return special_points.describe_derivative_cause(self.values(), node, j)

    def breakpoint(self, j: int) -> str | None:
        """The non-smooth part sitting on its breakpoint at selected point ``j``."""
        bp = int(self.block.bp_node[int(self.sel[j])])
        return special_points.describe_breakpoint(self.values(), bp) if bp >= 0 else None

    def value64(self, j: int) -> float:
        """f in float64 at selected point ``j``."""
        i = int(self.sel[j])
        point = {v: t.to(torch.float64)[i : i + 1] for v, t in self.block.x.items()}
        return float(self.block.ev.f64(point).reshape(-1)[0])

    def where_nan(self, j: int) -> Phrase | None:
        """The untaken ``where`` branch whose NaN gradient leaks through, if that is why (None
        if not; see where_nan.py)."""
        if not self.block.ev.parsed.uses("where"):
            return None
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
        lambda m: superscript(m.group(1) or m.group(2)),
        text,
    )
    text = text.replace("**", "^").replace("*", "·").replace("sqrt(", "√(")
    return re.sub(r"\bpi\b", "π", text)


__all__ = ["PointwiseEvaluator", "Block"]
