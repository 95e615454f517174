"""Compare autograd with finite differences on one Problem and build a GradCheck.

From ``DIRECTIONS_FROM`` input elements up to the full Jacobian's limits, the default compares
every output along ``DIRECTIONS`` seeded random directions u: autograd's J·u (by differentiating
the backward pass, checked against the plain backward) against one Richardson directional
derivative per u. Flagged outputs are matched to input columns, which are compared exactly as
below; whatever that does not explain falls back to the full Jacobian (see ``directions``).

Small problems (at most ``DENSE_INPUTS`` input elements and ``DENSE_ENTRIES`` Jacobian entries)
can get the full Jacobian: autograd's rows against one batched central difference per column; only
columns where an entry disagrees are recomputed with Richardson extrapolation (and an error
estimate), and only entries that still disagree are probed from both sides for a kink. An entry
is a mismatch when ``|autograd - numeric|`` exceeds both ``atol + rtol * |numeric|`` and twice
the numeric error estimate.

Large problems get seeded random projections vᵀJu (autograd: one backward pass per v; numeric:
one Richardson directional derivative per u). When one disagrees, the wrong input elements are
found by bisecting the coordinates of u (one central difference per step, so about
2·log2(N) evaluations), then the wrong outputs by bisecting v (backward passes only).

Every check also runs backward with a scaled random grad_output: a backward that is not linear
in grad_output ignores it, which the Jacobian rows (grad_output one-hot) cannot show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gradx.commands.check import causes
from gradx.commands.check.model import (
    GradCheck,
    GradientCause,
    InputInfo,
    JacobianEntry,
    Kink,
    Verdict,
    badness,
)
from gradx.commands.check.numeric import (
    SHRINK_STEPS,
    TRUST_ATOL,
    TRUST_RTOL,
    differences,
    refine_step,
    resolved_differences,
    screen,
    screen_step,
    trusted_slack,
)
from gradx.commands.check.problem import (  # noqa: F401 - problem_from_inputs re-exported
    Problem,
    TargetFailure,
    flatten_output,
    problem_from_inputs,
)
from gradx.numerics.finite_difference import BACKWARD, FORWARD, machine_epsilon
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import TOLERANCES, Tolerance
from gradx.translations import Phrase, phrase

Tensor = torch.Tensor

DENSE_INPUTS = 10_000
DENSE_ENTRIES = 4_000_000
TOP = 10  # entries kept for the report
KINK_COLUMNS = 256  # columns probed from both sides at most
LOCALISE_COLUMNS = 8  # wrong input elements located at most (projection mode)
ROWS_DIRECTLY = 32  # below this many outputs, a located column gets all its rows at once
# Steps of the one-sided probes: a kink needs evidence down to the smallest step.
SHRINK = (1.0, *SHRINK_STEPS)
PROJECTIONS_U = 2
PROJECTIONS_V = 2
DIRECTIONS = 4  # random directions u of the default method
DIRECTIONS_FROM = 32  # inputs from which the default method compares along directions
DIRECTION_COLUMNS = 32  # exact columns computed at most to explain what the directions flag


def dtype_name(dtype: torch.dtype) -> str:
    """``float64`` for torch.float64."""
    return str(dtype).replace("torch.", "")


METHOD_NAMES = {
    "dense": "full jacobian",
    "directions": "random directions",
    "projections": "random projections",
}


def choose_method(problem: Problem, order: int) -> str:
    """The default method: "directions" from ``DIRECTIONS_FROM`` inputs, full below it.

    Beyond the full Jacobian's size limits, random projections. Double backward (order 2) keeps
    the full Jacobian: its backward would have to be differentiated twice more.
    """
    if problem.n > DENSE_INPUTS or problem.n * problem.m > DENSE_ENTRIES:
        return "projections"
    if order == 1 and problem.n >= DIRECTIONS_FROM:
        return "directions"
    return "dense"


class NonFiniteOutput(TargetFailure):
    """The function's value is NaN or infinite at the inputs."""


def check_problem(
    problem: Problem,
    tol: Tolerance,
    *,
    order: int = 1,
    sample: int = 0,
    seed: int = 0,
    top: int = TOP,
    kinds: tuple[str, ...] | None = None,
    at: tuple[tuple[str, str], ...] = (),
    method: Method = Method.AUTO,
) -> GradCheck:
    """Compare autograd with finite differences on ``problem`` by ``method``."""
    generator = torch.Generator().manual_seed(seed * 7_919 + sample * 104_729 + order)
    if method is Method.AUTO:
        chosen = choose_method(problem, order)
    else:
        chosen = {Method.FULL: "dense", Method.DIRECTIONS: "directions"}.get(method, "projections")
    run = _Run(problem, tol, generator, order, top)
    if chosen == "directions" and not run.directions():
        # What the directions could not settle: every entry, where the Jacobian fits.
        too_big = problem.n > DENSE_INPUTS or problem.n * problem.m > DENSE_ENTRIES
        chosen = "projections" if too_big else "dense"
    if chosen == "dense":
        run.dense()
    elif chosen == "projections":
        run.projections()
    run.linearity()
    mismatches = sorted(run.mismatches, key=badness, reverse=True)
    verdict = (
        Verdict.FAIL
        if run.mismatch_count
        else (Verdict.NONDIFFERENTIABLE if run.kinks else Verdict.PASS)
    )
    cause = run.cause() if verdict is Verdict.FAIL else None
    infos = tuple(
        InputInfo(name, shape, kind, dtype_name(problem.dtype))
        for name, shape, kind in zip(
            problem.names, problem.shapes, kinds or problem.kinds, strict=True
        )
    )
    notes = list(run.notes)
    if problem.unused and verdict is not Verdict.FAIL:
        notes.append(
            phrase("no gradient path from {names} to the output", names=", ".join(problem.unused))
        )
    return GradCheck(
        order=order,
        sample=sample,
        verdict=verdict,
        method=METHOD_NAMES[chosen],
        inputs=infos,
        output_shape=(problem.m,) if len(problem.layout.shapes) != 1 else problem.layout.shapes[0],
        entries_checked=problem.n * problem.m,
        mismatch_count=run.mismatch_count,
        worst=mismatches[0] if mismatches else run.worst,
        mismatches=tuple(mismatches[:top]),
        cause=cause,
        kinks=tuple(run.kinks[:top]),
        kink_count=max(run.kink_count, len(run.kinks)),
        evaluations=problem.evaluations,
        localisation_evaluations=run.localisation_evaluations,
        vectorised=problem.vectorised is not False,
        fallback_reason=problem.fallback_reason if problem.vectorised is False else None,
        notes=tuple(notes),
        at=at,
    )


@dataclass(frozen=True)
class _DenseJacobians:
    """What the full method measured, one row per output element, one column per input one."""

    autograd: Tensor
    numeric: Tensor
    allowed: Tensor  # the tolerance of each entry
    error: Tensor  # the numeric estimate's rounding error
    bad: Tensor  # entries over their tolerance (and not at a kink)


class _Run:
    """The state of one comparison while it is built."""

    def __init__(self, problem: Problem, tol: Tolerance, generator, order: int, top: int):
        self.p = problem
        self.tol = tol
        self.gen = generator
        self.order = order
        self.top = top
        self.mismatches: list[JacobianEntry] = []
        self.mismatch_count = 0
        self.kinks: list[Kink] = []
        self.worst: JacobianEntry | None = None
        self.notes: list[Phrase] = []
        self.linear = True
        self.localisation_evaluations = 0
        self.nan_found = False
        self.kink_count = 0
        self._dense: _DenseJacobians | None = None  # the full method's matrices (M, N)
        self._sides: dict[tuple[int, int], tuple[float, float]] = {}
        self._jumps: set[tuple[int, int]] = set()
        self._located: list[
            tuple[int, int, float, float, float]
        ] = []  # projections: i, j, a, f, allowed

    # ------------------------------------------------------------------ entries

    def entry(self, i: int, j: int, a: float, f: float, err: float, output=None) -> JacobianEntry:
        out_name, out_index = output if output is not None else self.p.layout.locate(i)
        in_name, in_index = self.p.locate_input(j)
        return make_entry(out_name, out_index, in_name, in_index, a, f, err, self.tol)

    # ------------------------------------------------------------------ dense

    def dense(self) -> None:
        # Layout: (N, M), one row per input element (a column of the Jacobian).
        p, tol = self.p, self.tol
        a = p.jacobian().T
        steps = screen_step(p.x0, p.dtype, p.precision)
        scr = screen(p, torch.arange(p.n), steps)
        f = scr.central()
        eps = machine_epsilon(p.precision)
        err = (4 * eps / steps)[:, None] * (p.y0.abs() + torch.finfo(p.dtype).tiny)[None, :]
        diff = (a - f).abs()
        base = f.abs().mul_(tol.rtol).add_(tol.atol)
        allowed = torch.maximum(base, trusted_slack(err, f, base))
        del base
        # One-sided slopes from the same points: for a smooth function they differ by about
        # h·|f''|; at a kink by the jump in slope, whatever h is.
        center = p.evaluate(p.x0[None])[0]
        h = steps[:, None]
        right = (scr.plus - center) / h
        left = (center - scr.minus) / h
        jump = (right - left).abs() > h.sqrt() * (right.abs() + left.abs() + 1)
        jump |= ~torch.isfinite(f)
        del right, left
        wrong = ~(diff <= allowed)
        kink = torch.zeros(p.n, p.m, dtype=torch.bool)
        refine = wrong.any(1).nonzero().squeeze(1)
        if refine.numel():
            self._refine(refine, f, err)
            self._update(refine, a, f, err, diff, allowed)
        probe = jump.any(1).nonzero().squeeze(1)
        if probe.numel():
            order = jump[probe].sum(1).argsort(descending=True)[:KINK_COLUMNS]
            probe = probe[order].sort().values
            candidate = jump[probe] | ~(diff[probe] <= allowed[probe])
            self._one_sided(probe, f, err, candidate, kink)
            self._update(probe, a, f, err, diff, allowed)
        bad = ~(diff <= allowed) & ~kink
        nan_a = torch.isnan(a) & torch.isfinite(f)
        if bool(nan_a.any()):
            bad |= nan_a
            kink &= ~nan_a
            self.nan_found = True
        self._dense = _DenseJacobians(a.T, f.T, allowed.T, err.T, bad.T)
        self.mismatch_count = int(bad.sum())
        ratio = diff / allowed
        ratio = torch.where(torch.isnan(ratio), torch.full_like(ratio, math.inf), ratio)
        if self.mismatch_count:
            flat = torch.where(bad, ratio, torch.full_like(ratio, -1.0)).reshape(-1)
            picked = flat.topk(min(self.top, self.mismatch_count)).indices.tolist()
        else:
            flat = torch.where(kink, torch.full_like(ratio, -1.0), ratio).reshape(-1)
            best = int(flat.argmax())
            picked = [best] if float(flat[best]) >= 0 else []
        for index in picked:
            j, i = divmod(index, p.m)
            entry = self.entry(i, j, float(a[j, i]), float(f[j, i]), float(err[j, i]))
            if self.mismatch_count:
                self.mismatches.append(entry)
            else:
                self.worst = entry
        if self.mismatch_count:
            self.worst = self.mismatches[0]
        for index in kink.reshape(-1).nonzero().squeeze(1)[: self.top].tolist():
            j, i = divmod(index, p.m)
            self.kinks.append(self._kink(i, j, float(a[j, i])))
        self.kink_count = int(kink.sum())

    # ------------------------------------------------------------------ directions

    def directions(self) -> bool:
        """Compare J·u along random directions output by output; False: use the full Jacobian.

        autograd's J·u comes from differentiating the backward pass (``Problem.jacobian_times``)
        and is checked against a plain backward pass; the numeric J·u is one Richardson
        directional derivative per direction. The coordinates of u are ±(1 + U[0, 1)), so a
        single wrong entry (i, j) moves output i by at least its own error in every direction.
        Outputs that disagree (or whose one-sided slopes jump) are explained by matching their
        residuals against the columns of the directions, and the matched columns are compared
        exactly, entry by entry, as the full method does. When that does not explain every
        flagged output, the caller falls back to the full Jacobian.
        """
        p, tol = self.p, self.tol
        dtype = p.dtype
        eps = machine_epsilon(dtype)
        count = DIRECTIONS
        signs = torch.randint(0, 2, (count, p.n), generator=self.gen) * 2 - 1
        sizes = 1 + torch.rand(count, p.n, generator=self.gen, dtype=torch.float64)
        scale = torch.clamp(p.x0.abs(), min=1.0)
        dirs = (signs * sizes).to(dtype) * scale
        w = torch.randn(p.m, generator=self.gen, dtype=torch.float64).to(dtype)
        auto = p.jacobian_times(dirs, w)  # (K, M)
        # The differentiated backward must be the backward: wᵀ(J·u) = (wᵀJ)·u for a random w.
        plain = p.vjp(w)
        if not bool(torch.isfinite(plain).all()):
            return False  # NaN gradients: the full method names their entries and cause
        faithful = auto is not None and bool(
            (
                (dirs @ plain - auto @ w).abs()
                <= 1e3 * eps * (dirs.abs() @ plain.abs() + auto.abs() @ w.abs()) + 1e-300
            ).all()
        )
        if auto is None or not faithful:
            self.notes.append(
                phrase(
                    "the backward pass cannot be differentiated with respect to grad_output "
                    "(once_differentiable?): every Jacobian entry was compared"
                )
            )
            return False
        # A step along u moves all N coordinates: its curvature grows with N, so the step
        # shrinks by about √N (a power of two) from the one a single coordinate gets.
        shrink = 2.0 ** -round(math.log2(math.sqrt(p.n)))
        steps = refine_step(torch.zeros(count, dtype=dtype), dtype) * shrink
        est = differences(p, steps, directions=dirs)  # (K, M)
        # One-sided slopes at a small step h and at h/4: at a kink their difference (the jump
        # in slope) stays the same, on a smooth function it shrinks with the step.
        h = screen_step(torch.zeros(1, dtype=dtype), dtype)
        values = p.evaluate(
            torch.cat(
                [p.x0[None]]
                + [p.x0[None] + sign * t * dirs for t in (h, h / 4) for sign in (1, -1)]
            )
        )
        center, parts = values[0], values[1:].reshape(4, count, p.m)
        jumps = []
        for plus, minus, t in ((parts[0], parts[1], h), (parts[2], parts[3], h / 4)):
            right, left = (plus - center) / t, (center - minus) / t
            jumps.append((right - left, t.sqrt() * (right.abs() + left.abs() + 1)))
        (wide, _), (jump_size, floor) = jumps
        jump = (jump_size.abs() > floor) & (jump_size.abs() > wide.abs() / 2)
        del values, parts, jumps, wide, floor
        residual = auto - est.value
        # Autograd's own rounding in J·u: a sum of N terms whose size is about √N·|J·u|.
        allowed = (
            tol.atol + 2 * est.error + 64 * eps * math.sqrt(p.n) * (auto.abs() + est.value.abs())
        )
        over = ~(residual.abs() <= allowed)  # NaN counts as over
        jump |= ~torch.isfinite(est.value)
        flagged = over.any(0)
        jumping = jump.any(0)
        if not bool(flagged.any()) and not bool(jumping.any()):
            ratio = residual.abs() / allowed
            k, i = divmod(int(ratio.reshape(-1).argmax()), p.m)
            self.worst = make_entry(
                *p.layout.locate(i),
                "u",
                (k,),
                float(auto[k, i]),
                float(est.value[k, i]),
                float(est.error[k, i]),
                tol,
                allowed=float(allowed[k, i]),
            )
            self.notes.append(
                phrase(
                    "{count} seeded random directions compare all {outputs} outputs; a single "
                    "wrong entry changes its output in every direction",
                    count=count,
                    outputs=f"{p.m:,}",
                )
            )
            return True
        before = p.evaluations
        rows = flagged.nonzero().squeeze(1)
        kink_rows = (jumping & ~flagged).nonzero().squeeze(1)
        columns = torch.cat(
            [
                _matching_columns(residual[:, rows], dirs),
                _matching_columns(jump_size[:, kink_rows], dirs.abs()),
            ]
        ).unique()
        if columns.numel() > DIRECTION_COLUMNS or not bool(torch.isfinite(auto).all()):
            return False
        # The matched columns, exactly: autograd's columns and Richardson columns.
        eye = torch.zeros(columns.numel(), p.n, dtype=dtype)
        eye[torch.arange(columns.numel()), columns] = 1.0
        a = p.jacobian_times(eye, w)
        if a is None:
            return False
        f = torch.empty_like(a)
        err = torch.empty_like(a)
        at = torch.arange(columns.numel())
        self._refine(columns, f, err, at)
        allowed_c = torch.maximum(f.abs() * tol.rtol + tol.atol, 2 * err)
        candidate = ~((a - f).abs() <= allowed_c)
        candidate |= jumping[None, :] & (columns[:, None] >= 0)
        kink = torch.zeros_like(candidate)
        self._one_sided(columns, f, err, candidate, kink, at)
        allowed_c = torch.maximum(f.abs() * tol.rtol + tol.atol, 2 * err)
        bad = ~((a - f).abs() <= allowed_c) & ~kink
        # Every flagged output must be explained by the exact columns.
        fix = dirs[:, columns] @ torch.where(kink, torch.zeros_like(a), a - f)
        slack = dirs[:, columns].abs() @ (2 * err)
        still = ~((residual - fix).abs() <= allowed + slack)
        if bool((still.any(0) & ~kink.any(0)).any()):
            return False
        self.localisation_evaluations = p.evaluations - before
        ratio = torch.where(bad, (a - f).abs() / allowed_c, torch.full_like(a, -1.0))
        ratio = torch.where(torch.isnan(ratio) & bad, torch.full_like(a, math.inf), ratio)
        self.mismatch_count = int(bad.sum())
        for index in ratio.reshape(-1).topk(min(self.top, self.mismatch_count)).indices.tolist():
            c, i = divmod(index, p.m)
            j = int(columns[c])
            av, fv = float(a[c, i]), float(f[c, i])
            self.mismatches.append(self.entry(i, j, av, fv, float(err[c, i])))
            self._located.append((i, j, av, fv, float(allowed_c[c, i])))
        for c, i in kink.nonzero().tolist()[: self.top]:
            self.kinks.append(self._kink(i, int(columns[c]), float(a[c, i])))
        self.kink_count = int(kink.sum())
        if self.mismatches:
            self.worst = self.mismatches[0]
        self.notes.append(
            phrase(
                "{count} seeded random directions compare all {outputs} outputs; {columns} "
                "column(s) they flagged were compared entry by entry",
                count=count,
                outputs=f"{p.m:,}",
                columns=columns.numel(),
            )
        )
        return True

    def _update(self, rows, a, f, err, diff, allowed) -> None:
        sub_f = f[rows]
        base = self.tol.atol + self.tol.rtol * sub_f.abs()
        allowed[rows] = torch.maximum(base, trusted_slack(err[rows], sub_f, base))
        diff[rows] = (a[rows] - sub_f).abs()

    def _refine(self, columns: Tensor, f: Tensor, err: Tensor, at: Tensor | None = None) -> None:
        """Richardson estimates (with error estimates) for these columns, shrinking if needed.

        ``f`` and ``err`` hold one row per column at positions ``at`` (default: the columns).
        """
        p, tol = self.p, self.tol
        at = columns if at is None else at
        est = resolved_differences(
            p,
            refine_step(p.x0[columns], p.dtype, p.precision),
            tol.rtol,
            tol.atol,
            columns=columns,
        )
        f[at], err[at] = est.value, est.error

    def _one_sided(
        self,
        columns: Tensor,
        f: Tensor,
        err: Tensor,
        candidate: Tensor,
        kink: Tensor,
        at: Tensor | None = None,
    ) -> None:
        """Entries whose left and right derivatives differ at every step size are kinks.

        ``candidate`` (len(columns), M) marks the entries to probe. Where both sides agree at
        some step, their mean (and its error) replaces the numeric value. ``f``, ``err`` and
        ``kink`` hold one row per column at positions ``at`` (default: the columns). NaN or
        infinite slopes are never evidence of a kink; slopes that grow like 1/h as the step
        shrinks are a jump of the function, not a kink.
        """
        p, tol = self.p, self.tol
        at = columns if at is None else at
        previous: dict[tuple[int, int], float] = {}
        evidence = torch.zeros_like(candidate)
        for factor in SHRINK:
            active = candidate.any(1)
            if not bool(active.any()):
                break
            cols, rows = columns[active], at[active]
            steps = refine_step(p.x0[cols], p.dtype, p.precision) * factor
            right = differences(p, steps, columns=cols, scheme=FORWARD)
            left = differences(p, steps, columns=cols, scheme=BACKWARD)
            r, er, lf, el = right.value, right.error, left.value, left.error
            finite = torch.isfinite(r) & torch.isfinite(lf)
            size = torch.maximum(r.abs(), lf.abs())
            scale = tol.atol + tol.rtol * size
            noise = er + el
            # Differ: evidence of a kink at this step. Agree: both sides the same, and
            # precise enough to trust (a stencil across a pole "agrees" within its huge
            # errors). Anything else (NaN, noise) is no evidence either way: shrink on.
            differ = finite & ((r - lf).abs() > 2 * noise + scale)
            agree = finite & ~differ & (noise <= TRUST_ATOL + TRUST_RTOL * size)
            sub = candidate[active]
            settle = sub & agree
            if bool(settle.any()):
                f[rows] = torch.where(settle, (r + lf) / 2, f[rows])
                err[rows] = torch.where(
                    settle, torch.maximum(er, el) + (r - lf).abs() / 2, err[rows]
                )
            still = sub & ~agree
            evidence[active] = sub & differ
            for k, i in (sub & differ).nonzero().tolist():
                key = (i, int(cols[k]))
                left_k, right_k = float(lf[k, i]), float(r[k, i])
                self._sides[key] = (left_k, right_k)
                size_k = max(abs(left_k), abs(right_k))
                # A jump: the slopes grow about 16x when the step shrinks 16x.
                if key in previous and size_k >= 8 * previous[key] > 0:
                    self._jumps.add(key)
                else:
                    self._jumps.discard(key)
                previous[key] = size_k
            candidate = candidate.clone()
            candidate[active] = still
        # A kink needs evidence at the smallest step it was probed with.
        kink[at] |= candidate & evidence

    def _kink(self, i: int, j: int, a: float) -> Kink:
        left, right = self._sides.get((i, j), (math.nan, math.nan))
        out_name, out_index = self.p.layout.locate(i)
        in_name, in_index = self.p.locate_input(j)
        jump = (i, j) in self._jumps
        if jump:
            # One-sided limits of the output, as eval reports them for a jump.
            p = self.p
            h = refine_step(p.x0[j : j + 1], p.dtype, p.precision) * SHRINK[-1]
            points = p.x0.expand(2, p.n).clone()
            points[0, j] -= h[0]
            points[1, j] += h[0]
            values = p.evaluate(points)
            left, right = float(values[0, i]), float(values[1, i])
        return Kink(out_name, out_index, in_name, in_index, left, right, a, jump=jump)

    # ------------------------------------------------------------------ projections

    def projections(self) -> None:
        p, tol = self.p, self.tol
        dtype = p.dtype
        vs = torch.randn(PROJECTIONS_V, p.m, generator=self.gen, dtype=torch.float64).to(dtype)
        grads = torch.stack([p.vjp(v) for v in vs])  # (V, N)
        nan_columns = torch.isnan(grads).any(0).nonzero().squeeze(1)
        if nan_columns.numel():
            self.nan_found = True
            self._locate_columns(nan_columns[:LOCALISE_COLUMNS].tolist(), vs[0])
            self.mismatch_count = max(self.mismatch_count, int(nan_columns.numel()))
            return
        scale = torch.clamp(p.x0.abs(), min=1.0)
        us = torch.randn(PROJECTIONS_U, p.n, generator=self.gen, dtype=torch.float64).to(dtype)
        directions = us * scale / us.abs().amax(dim=1, keepdim=True)
        steps = refine_step(torch.zeros(PROJECTIONS_U, dtype=dtype), dtype, p.precision)
        est = resolved_differences(p, steps, tol.rtol, tol.atol, directions=directions)  # (U, M)
        s_auto = grads @ directions.T  # (V, U)
        s_num = vs @ est.value.T
        noise = est.projected_error(vs)
        # A projection may differ by what one entry at its tolerance could cause (its largest
        # term), not by the sum over all entries: that sum grows with the size and would hide
        # a single wrong entry (gradcheck's fast mode scales atol by about 0.75·n).
        terms = _largest_terms(vs, est.value)
        base = (
            tol.atol * vs.abs().amax(dim=1)[:, None] * directions.abs().amax(dim=1)[None, :]
            + tol.rtol * terms
        )
        allowed = torch.maximum(base, trusted_slack(noise, s_num, base))
        ratio = (s_auto - s_num).abs() / allowed
        ratio = torch.where(torch.isnan(ratio), torch.full_like(ratio, math.inf), ratio)
        self.notes.append(
            phrase(
                "{count} seeded random projections vᵀJu cover all {entries} entries; a wrong "
                "entry escapes them only by chance",
                count=PROJECTIONS_U * PROJECTIONS_V,
                entries=f"{p.n * p.m:,}",
            )
        )
        a_index, u_index = divmod(int(ratio.reshape(-1).argmax()), PROJECTIONS_U)
        worst = make_entry(
            "vᵀ·out",
            (a_index,),
            "u",
            (u_index,),
            float(s_auto[a_index, u_index]),
            float(s_num[a_index, u_index]),
            float(noise[a_index, u_index]),
            tol,
            allowed=float(base[a_index, u_index]),
        )
        if float(ratio[a_index, u_index]) <= 1.0:
            self.worst = worst
            return
        before = p.evaluations
        columns = self._bisect_inputs(grads[a_index], vs[a_index], directions[u_index], worst)
        self._locate_columns(columns, vs[a_index])
        self.localisation_evaluations = p.evaluations - before
        if not self.mismatches and not self.kinks:
            # The projection failed but no single entry could be pinned down.
            self.mismatches.append(worst)
            self.mismatch_count = 1
            self.notes.append(
                phrase("the projection disagrees but no single wrong entry was isolated")
            )

    def _bisect_inputs(self, grad: Tensor, v: Tensor, d: Tensor, root: JacobianEntry) -> list[int]:
        """Wrong input elements, by splitting the direction's coordinates in halves."""
        p, tol = self.p, self.tol
        step = screen_step(torch.zeros(1, dtype=p.dtype), p.dtype, p.precision)
        root_error = root.autograd - root.numeric
        floor = 1e-3 * abs(root_error)

        def test(lo: int, hi: int) -> tuple[float, float]:
            masked = torch.zeros_like(d)
            masked[lo:hi] = d[lo:hi]
            # Two levels: their change shows a stencil that straddles a breakpoint, which
            # then gets a smaller step.
            est = resolved_differences(
                p, step, tol.rtol, tol.atol, directions=masked[None], levels=(1.0, 0.5)
            )
            value = float(v @ est.value[0])
            auto = float(grad[lo:hi] @ d[lo:hi])
            limit = max(
                tol.atol * float(v.abs().max() * masked.abs().max())
                + tol.rtol * float((v * est.value[0]).abs().max()),
                4 * float(v.abs() @ est.error[0]),
                floor,
            )
            return auto - value, limit

        found: list[int] = []
        stack = [(0, p.n, root_error)]
        tests = 0
        while stack and len(found) < LOCALISE_COLUMNS and tests < 64 * LOCALISE_COLUMNS:
            lo, hi, error = stack.pop()
            if hi - lo == 1:
                found.append(lo)
                continue
            mid = (lo + hi) // 2
            first, limit = test(lo, mid)
            tests += 1
            second = error - first
            halves = [(abs(first), lo, mid, first), (abs(second), mid, hi, second)]
            keep = [h for h in halves if h[0] > limit] or [max(halves)]
            for _, a_lo, a_hi, e in sorted(keep):
                stack.append((a_lo, a_hi, e))
        self.mismatch_count = max(len(found), 1)
        return found

    def _locate_columns(self, columns: list[int], v: Tensor) -> None:
        """For each wrong input element, the numeric column and the outputs where it is wrong."""
        p, tol = self.p, self.tol
        if not columns:
            return
        cols = torch.tensor(columns)
        est = resolved_differences(
            p, refine_step(p.x0[cols], p.dtype, p.precision), tol.rtol, tol.atol, columns=cols
        )
        count = 0
        for k, j in enumerate(columns):
            f_col, e_col = est.value[k], est.error[k]
            rows = self._wrong_rows(j, f_col, e_col, v)
            for i, a in rows:
                f, e = float(f_col[i]), float(e_col[i])
                base = tol.atol + tol.rtol * abs(f)
                allowed = max(base, min(2 * e, max(TRUST_ATOL + TRUST_RTOL * abs(f), 10 * base)))
                if abs(a - f) <= allowed:
                    continue
                if not math.isnan(a):
                    kink = self._column_kink(j, i)
                    if kink is not None:
                        self.kinks.append(
                            Kink(*p.layout.locate(i), *p.locate_input(j), kink[0], kink[1], a)
                        )
                        continue
                self.mismatches.append(self.entry(i, j, a, f, e))
                self._located.append((i, j, a, f, allowed))
                count += 1
        self.mismatch_count = max(self.mismatch_count, count) if count else 0

    def _column_kink(self, j: int, i: int) -> tuple[float, float] | None:
        p, tol = self.p, self.tol
        col = torch.tensor([j])
        for factor in SHRINK:
            step = refine_step(p.x0[col], p.dtype, p.precision) * factor
            r = differences(p, step, columns=col, scheme=FORWARD)
            lf = differences(p, step, columns=col, scheme=BACKWARD)
            rv, lv = float(r.value[0, i]), float(lf.value[0, i])
            er, el = float(r.error[0, i]), float(lf.error[0, i])
            if math.isfinite(rv) and math.isfinite(lv):
                if abs(rv - lv) <= 2 * (er + el) + tol.atol + tol.rtol * max(abs(rv), abs(lv)):
                    return None
        if not (math.isfinite(rv) and math.isfinite(lv)):
            return None  # NaN or infinite slopes are never evidence of a kink
        return (lv, rv)

    def _wrong_rows(
        self, j: int, f_col: Tensor, e_col: Tensor, v: Tensor
    ) -> list[tuple[int, float]]:
        """(output index, autograd value) of the outputs where column j may be wrong."""
        p, tol = self.p, self.tol
        if p.m <= ROWS_DIRECTLY:
            column = p.jacobian_rows(range(p.m))[:, j]
            return [(i, float(column[i])) for i in range(p.m)]
        found: list[tuple[int, float]] = []

        def wrong(lo: int, hi: int) -> bool:
            w = torch.zeros_like(v)
            w[lo:hi] = v[lo:hi]
            part_v, part_f = v[lo:hi], f_col[lo:hi]
            auto = float(p.vjp(w)[j])
            num = float(part_v @ part_f)
            allowed = (
                tol.atol * float(part_v.abs().max())
                + tol.rtol * float((part_v * part_f).abs().max())
                + 2 * float(part_v.abs() @ e_col[lo:hi])
            )
            return not (abs(auto - num) <= allowed)

        def autograd_at(i: int) -> float:
            onehot = torch.zeros(p.m, dtype=p.dtype)
            onehot[i] = 1.0
            return float(p.vjp(onehot)[j])

        if p.m == p.n and wrong(j, j + 1) and not (wrong(0, j) or wrong(j + 1, p.m)):
            # An element-wise function: the wrong entry is on the diagonal.
            return [(j, autograd_at(j))]
        stack = [(0, p.m)]
        while stack and len(found) < self.top:
            lo, hi = stack.pop()
            if hi - lo == 1:
                found.append((lo, autograd_at(lo)))
                continue
            mid = (lo + hi) // 2
            for a_lo, a_hi in ((mid, hi), (lo, mid)):
                if wrong(a_lo, a_hi):
                    stack.append((a_lo, a_hi))
        return found

    # ------------------------------------------------------------------ grad_output

    def linearity(self) -> None:
        """backward(c·v) must be c·backward(v): otherwise it ignores grad_output."""
        p, tol = self.p, self.tol
        if p.no_graph:
            return
        v = torch.randn(p.m, generator=self.gen, dtype=torch.float64).to(p.dtype)
        c = -1.75
        g1 = p.vjp(v)
        g2 = p.vjp(c * v)
        limit = tol.atol + tol.rtol * (c * g1).abs()
        linear = (g2 - c * g1).abs() <= limit
        # Exact, whatever the scale: a linear backward maps a zero grad_output to zeros
        # (gradcheck's test too). Catches a tiny gradient that ignores grad_output.
        zero = p.vjp(torch.zeros_like(v))
        linear &= ~(torch.isfinite(zero) & (zero != 0))
        if bool(linear.all()) or bool(torch.isnan(g1).any()):
            return
        self.linear = False
        if self._dense is not None:
            numeric = v @ self._dense.numeric
            spread = (
                tol.atol * float(v.abs().max())
                + tol.rtol * (v[:, None] * self._dense.numeric).abs().amax(dim=0)
                + 2 * (v.abs() @ self._dense.error)
            )
            wrong = ~((g1 - numeric).abs() <= spread) | ~linear
            shown = wrong.nonzero().squeeze(1)[: self.top]
        else:
            # Projection mode: numeric columns only for the entries shown.
            wrong = ~linear
            shown = wrong.nonzero().squeeze(1)[: self.top]
            est = differences(p, refine_step(p.x0[shown], p.dtype, p.precision), columns=shown)
            numeric = torch.full_like(g1, math.nan)
            spread = torch.full_like(g1, math.inf)
            numeric[shown] = est.value @ v
            spread[shown] = (
                tol.atol * float(v.abs().max())
                + tol.rtol * (est.value * v[None, :]).abs().amax(dim=1)
                + 2 * (est.error @ v.abs())
            )
        for j in shown.tolist():
            in_name, in_index = p.locate_input(j)
            self.mismatches.append(
                make_entry(
                    "vᵀ·out",
                    (),
                    in_name,
                    in_index,
                    float(g1[j]),
                    float(numeric[j]),
                    0.0,
                    self.tol,
                    allowed=float(spread[j]),
                )
            )
        # The vᵀ·out rows are not Jacobian entries: count them only when nothing else is wrong.
        self.mismatch_count = max(self.mismatch_count, int(wrong.sum()))
        self.notes.append(
            phrase(
                "backward with grad_output v and with -1.75·v does not scale by -1.75 "
                "(rows with output vᵀ·out use a random grad_output v)"
            )
        )

    def _structural_from_located(self) -> GradientCause | None:
        """Swapped or transposed, tested on the located entries (projection mode)."""
        p = self.p
        entries = self._located[: self.top]
        candidates: dict[str, list[tuple[int, int, float, float, int]]] = {}
        for i, j, a, _, allowed in entries:
            for label, partner in _partners(p, j):
                candidates.setdefault(label, []).append((i, j, a, allowed, partner))
            # A transposed Jacobian of a square function: autograd[i, j] = numeric[j, i].
            slices = p.input_slices()
            k = next(n for n, (_, s) in enumerate(slices) if s.start <= j < s.stop)
            if p.sizes[k] == p.m:
                local = j - slices[k][1].start
                candidates.setdefault(f"transposed:{p.names[k]}", []).append(
                    (local, j, a, allowed, slices[k][1].start + i)
                )
        for label, items in candidates.items():
            if len(items) < len(entries):
                continue
            columns = sorted({partner for *_, partner in items})
            cols = torch.tensor(columns)
            est = differences(p, refine_step(p.x0[cols], p.dtype, p.precision), columns=cols)
            where = {c: n for n, c in enumerate(columns)}
            if all(
                abs(a - float(est.value[where[partner], row]))
                <= max(allowed, 2 * float(est.error[where[partner], row]))
                for row, _, a, allowed, partner in items
            ):
                kind, *names = label.split(":")
                if kind == "swapped":
                    return causes.swapped_cause(names[0], names[1])
                return causes.transposed_cause(names[0])
        return None

    # ------------------------------------------------------------------ causes

    def cause(self) -> GradientCause | None:
        p = self.p
        if self.nan_found:
            return causes.nan_cause(self.order)
        if not self.linear:
            return causes.ignores_grad_output_cause()
        entries = [e for e in self.mismatches if e.output != "vᵀ·out"]
        dense = self._dense
        if dense is not None:
            bad = dense.bad
            av, fv, al = dense.autograd[bad], dense.numeric[bad], dense.allowed[bad]
        else:
            av = torch.tensor([e.autograd for e in entries], dtype=torch.float64)
            fv = torch.tensor([e.numeric for e in entries], dtype=torch.float64)
            al = torch.tensor([max(e.tolerance, 2 * e.numeric_error) for e in entries])
        if av.numel() and bool(((av == 0) & (fv.abs() > al)).all()):
            names = sorted({e.input for e in entries}, key=list(p.names).index)
            return causes.missing_cause(
                names, unused=list(p.unused), no_graph=p.no_graph, order=self.order
            )
        if dense is not None:
            found = causes.structural_cause(
                dense.autograd, dense.numeric, dense.allowed, dense.bad, p.input_slices(), p.shapes
            )
            if found is not None:
                return found
            nonzero = int(((dense.numeric.abs() > dense.allowed) | (dense.autograd != 0)).sum())
            whole = nonzero == int(dense.bad.sum())
        else:
            found = self._structural_from_located() if self._located else None
            if found is not None:
                return found
            whole = p.n * p.m == 1
        return causes.entry_cause(av, fv, al, whole=whole, rtol=self.tol.rtol)


def _matching_columns(residual: Tensor, directions: Tensor) -> Tensor:
    """For each output's residuals (K, R) along K directions (K, N), the best-fitting column.

    A single wrong entry (i, j) makes output i's residuals proportional to column j of the
    directions; the column whose direction coordinates are most nearly parallel is returned.
    """
    if residual.shape[1] == 0:
        return torch.zeros(0, dtype=torch.long)
    residual = torch.nan_to_num(residual, nan=0.0, posinf=0.0, neginf=0.0)
    norms = directions.square().sum(0)  # (N,)
    best = []
    for start in range(0, residual.shape[1], 256):
        part = residual[:, start : start + 256]
        fit = (part.T @ directions).square() / norms  # (R, N)
        best.append(fit.argmax(1))
    return torch.cat(best)


def _partners(problem: Problem, j: int) -> list[tuple[str, int]]:
    """Columns that a swapped or transposed backward would put in column j's place."""
    slices = problem.input_slices()
    k = next(n for n, (_, s) in enumerate(slices) if s.start <= j < s.stop)
    name, own = slices[k]
    local = j - own.start
    found = []
    for other, (other_name, s) in enumerate(slices):
        if other != k and problem.shapes[other] == problem.shapes[k]:
            pair = sorted((name, other_name))
            found.append((f"swapped:{pair[0]}:{pair[1]}", s.start + local))
    shape = problem.shapes[k]
    if len(shape) == 2 and shape[0] == shape[1] > 1:
        r, c = divmod(local, shape[1])
        found.append((f"transposed:{name}", own.start + c * shape[1] + r))
    return found


def _largest_terms(vs: Tensor, values: Tensor) -> Tensor:
    """max_k |v_a[k] * value_u[k]| for every pair (a, u): (V, U), without a (V, U, M) tensor."""
    return torch.stack(
        [
            torch.stack([torch.linalg.vector_norm(v * value, ord=math.inf) for value in values])
            for v in vs
        ]
    )


def make_entry(
    out_name: str,
    out_index: tuple[int, ...],
    in_name: str,
    in_index: tuple[int, ...],
    a: float,
    f: float,
    err: float,
    tol: Tolerance,
    *,
    allowed: float | None = None,
) -> JacobianEntry:
    """A JacobianEntry with its errors and tolerance worked out."""
    diff = abs(a - f)
    if math.isnan(diff):
        rel = math.nan
    elif f != 0:
        rel = diff / abs(f)
    else:
        rel = 0.0 if diff == 0 else math.inf
    tolerance = tol.atol + tol.rtol * abs(f) if allowed is None else allowed
    return JacobianEntry(
        out_name, tuple(out_index), in_name, tuple(in_index), a, f, diff, rel, tolerance, err
    )


# ---------------------------------------------------------------------- problems from inputs


def second_order_problem(problem: Problem, seed: int, sample: int) -> Problem:
    """The gradient wᵀJ as a function of (inputs, w): its Jacobian is the double backward."""
    generator = torch.Generator().manual_seed(seed * 31 + sample * 17 + 2)
    w0 = torch.randn(problem.m, generator=generator, dtype=torch.float64).to(problem.dtype)
    names = (*problem.names, "grad_output")
    shapes = (*problem.shapes, (problem.m,))
    kinds = (*problem.kinds, "grad_output")
    inner = problem._call

    def call(tensors: list[Tensor]) -> tuple[Tensor, ...]:
        xs = [x if x.requires_grad else x.detach().requires_grad_(True) for x in tensors[:-1]]
        w = tensors[-1]
        with torch.enable_grad():
            flat, _ = flatten_output(inner(xs))
            if not flat.requires_grad:
                return tuple(torch.zeros_like(x) for x in xs)
            grads = torch.autograd.grad(flat, xs, w, create_graph=True, allow_unused=True)
        return tuple(
            torch.zeros_like(x) if g is None else g for x, g in zip(xs, grads, strict=True)
        )

    x0 = torch.cat([problem.x0, w0])
    second = Problem(
        call,
        names,
        shapes,
        kinds,
        x0,
        vectorise=False,
        fallback_reason=phrase("double backward is evaluated point by point"),
        grad_in_evaluate=True,
    )
    second.layout = type(second.layout)(
        tuple(f"grad_{n}" for n in problem.names), second.layout.shapes
    )
    return second


def check_output_is_usable(problem: Problem) -> None:
    """Refuse a NaN/inf value and a function that gives different values for the same input."""
    y = problem.y0
    if not bool(torch.isfinite(y).all()):
        bad = int((~torch.isfinite(y)).sum())
        raise NonFiniteOutput(
            f"the function's value is nan or inf at the inputs ({bad} of {y.numel()} outputs)"
        )
    again = problem.evaluate(problem.x0[None])[0]
    dtype = DType.FLOAT64 if problem.precision == torch.float64 else DType.FLOAT32
    rtol = TOLERANCES[dtype].repeat_rtol
    if not bool(((again - y).abs() <= rtol * (1 + y.abs())).all()):
        raise TargetFailure(
            "the function returns different values for the same input (global state other "
            "than the random-number generator?): finite differences cannot check it"
        )
