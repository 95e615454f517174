"""Finite differences of a flat Problem along coordinates or directions, with error estimates.

Reuses ``gradx.numerics.finite_difference``: Fornberg stencils, power-of-two steps from the dtype and
the input's scale, and the Richardson scheme over the steps h, h/2, h/4 (its error estimate is
the change made by the last extrapolation, plus a bound on rounding). The difference to
``finite_difference.derivative`` is the shape of the data: one call evaluates the whole output
vector (M values) at every stencil point of K columns or directions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gradx.commands.check.problem import BATCH_ELEMENTS, Problem
from gradx.numerics.finite_difference import CENTRAL, LEVELS, base_step, machine_epsilon, stencil

Tensor = torch.Tensor


@dataclass(frozen=True)
class Estimate:
    """Numeric derivatives (K, M) along K columns or directions, and their error estimates.

    ``error`` is ``|change| + rounding``: ``change`` (signed) is what the last Richardson
    extrapolation changed, ``rounding`` a bound on the rounding error. A projection vᵀ·value
    then has the error |vᵀ·change| plus the rounding errors added in quadrature (they are
    independent), far tighter than vᵀ·error for many outputs.
    """

    value: Tensor
    error: Tensor
    change: Tensor | None = None
    rounding: Tensor | None = None

    def projected_error(self, v: Tensor) -> Tensor:
        """The error of v @ value.T (shape (V, K)) for weights v (V, M)."""
        if self.change is None or self.rounding is None:
            return v.abs() @ self.error.T
        # The rounding bound is 8 ulps per value; in quadrature, 3 standard deviations of ~1.
        return (v @ self.change.T).abs() + 3 / 8 * (
            (v * v) @ (self.rounding * self.rounding).T
        ).sqrt()


def screen_step(x: Tensor, dtype: torch.dtype, precision: torch.dtype | None = None) -> Tensor:
    """A power-of-two step near eps^(1/3) * max(|x|, 1): the best single central difference.

    ``eps`` is that of ``precision``, the lowest precision on the function's path (default
    ``dtype``); the steps are returned in ``dtype``.
    """
    scale = torch.clamp(x.detach().abs(), min=1.0).to(torch.float64)
    eps = machine_epsilon(precision or dtype)
    exponent = torch.round(torch.log2(eps ** (1 / 3) * scale))
    return torch.pow(2.0, exponent).to(dtype)


def refine_step(x: Tensor, dtype: torch.dtype, precision: torch.dtype | None = None) -> Tensor:
    """The step ``finite_difference`` uses for a first derivative with two Richardson passes.

    Chosen for ``precision`` (the lowest precision on the path, default ``dtype``), in ``dtype``.
    """
    return base_step(x, 1, precision or dtype).to(dtype)


def differences(
    problem: Problem,
    steps: Tensor,
    *,
    columns: Tensor | None = None,
    directions: Tensor | None = None,
    scheme: str = CENTRAL,
    levels: tuple[float, ...] = LEVELS,
) -> Estimate:
    """Derivatives along coordinate ``columns`` (K,) or ``directions`` (K, N) with ``steps`` (K,).

    With one level this is a plain difference (error: rounding only); with two or three levels
    it is Richardson-extrapolated and the error estimate includes the truncation error.
    """
    k_total = int(columns.shape[0] if columns is not None else directions.shape[0])  # type: ignore[union-attr]
    offsets, weights = stencil(1, scheme)
    nodes = [(o, w) for o, w in zip(offsets, weights, strict=True) if w != 0.0]
    per_direction = len(levels) * len(nodes)
    chunk = max(1, BATCH_ELEMENTS // (per_direction * max(problem.n, problem.m, 1)))
    values, errors, changes, roundings = [], [], [], []
    for start in range(0, k_total, chunk):
        sl = slice(start, min(start + chunk, k_total))
        est = _chunk(
            problem,
            steps[sl],
            None if columns is None else columns[sl],
            None if directions is None else directions[sl],
            nodes,
            levels,
            scheme,
        )
        values.append(est.value)
        errors.append(est.error)
        changes.append(_present(est.change))
        roundings.append(_present(est.rounding))
    return Estimate(torch.cat(values), torch.cat(errors), torch.cat(changes), torch.cat(roundings))


def _present(field: Tensor | None) -> Tensor:
    """A field that ``differences`` always fills (only projections leave change/rounding out)."""
    if field is None:
        raise AssertionError("differences() returned an estimate without all its fields")
    return field


def _chunk(problem, steps, columns, directions, nodes, levels, scheme) -> Estimate:
    dtype = problem.dtype
    k = int(steps.shape[0])
    shifts = torch.tensor([o * s for s in levels for o, _ in nodes], dtype=dtype)  # (S,)
    s_count = shifts.shape[0]
    amounts = (steps[:, None] * shifts[None, :]).reshape(-1)  # (K*S,)
    if columns is not None:
        points = problem.x0.expand(k * s_count, problem.n).clone()
        index = columns.repeat_interleave(s_count)
        points[torch.arange(k * s_count), index] += amounts
    else:
        # Written in place: the (K*S, N) batch is the largest tensor here, so no temporaries.
        points = torch.empty(k * s_count, problem.n, dtype=dtype)
        for d in range(k):
            rows = points[d * s_count : (d + 1) * s_count]
            torch.mul(amounts[d * s_count : (d + 1) * s_count, None], directions[d], out=rows)
            rows += problem.x0
    values = problem.evaluate(points).reshape(k, len(levels), len(nodes), problem.m)
    del points  # the batch is as large as the values: free it before the arithmetic below
    level_scale = torch.tensor(levels, dtype=dtype)[None, :, None]
    # Σ_i w_i · values[:, :, i] accumulated in place: no (K, L, nodes, M) temporary.
    per_level = torch.zeros(k, len(levels), problem.m, dtype=dtype)
    for i, (_, w) in enumerate(nodes):
        per_level.add_(values[:, :, i, :], alpha=w)
    per_level /= steps[:, None, None] * level_scale  # (K, L, M)
    eps = machine_epsilon(getattr(problem, "precision", dtype))
    spread = sum(abs(w) for _, w in nodes)
    magnitude = torch.linalg.vector_norm(values, ord=math.inf, dim=(1, 2))  # max |values|
    del values  # as large as the batch: gone before the extrapolation's temporaries
    rounding = 8 * eps * magnitude * spread / (steps[:, None] * min(levels))
    if len(levels) == 1:
        return Estimate(per_level[:, 0], rounding, torch.zeros_like(rounding), rounding)
    p1, p2 = (2, 4) if scheme == CENTRAL else (2, 3)
    f1 = 2.0**p1
    if len(levels) == 2:
        best = (f1 * per_level[:, 1] - per_level[:, 0]) / (f1 - 1)
        change = best - per_level[:, 1]
        return Estimate(best, change.abs() + rounding, change, rounding)
    f2 = 2.0**p2
    r0 = (f1 * per_level[:, 1] - per_level[:, 0]) / (f1 - 1)
    r1 = (f1 * per_level[:, 2] - per_level[:, 1]) / (f1 - 1)
    best = (f2 * r1 - r0) / (f2 - 1)
    return Estimate(best, (best - r1).abs() + rounding, best - r1, rounding)


# Smaller steps tried, per column or direction, while an estimate's error is above its
# tolerance: a stencil that straddles a breakpoint (sort of close values, a kink nearby) gets a
# step that fits between the breakpoints. 16^-6 of the Richardson step is about 3e-10·max(|x|,1)
# in float64, where rounding starts to dominate.
SHRINK_STEPS = tuple(16.0**-k for k in range(1, 7))

# The numeric error estimate may widen an entry's tolerance, but never beyond what finite
# differences can honestly claim: gradcheck's own bar (atol 1e-5 + rtol 1e-3·|numeric|) or ten
# times the tolerance, whichever is wider. Beyond that an entry is not "within its error bar".
TRUST_RTOL, TRUST_ATOL = 1e-3, 1e-5


def trusted_slack(error: Tensor, numeric: Tensor, tolerance: Tensor) -> Tensor:
    """Twice the numeric error, capped at what finite differences can vouch for."""
    cap = torch.maximum(TRUST_ATOL + TRUST_RTOL * numeric.abs(), 10 * tolerance)
    return torch.minimum(2 * error, cap)


def resolved_differences(
    problem: Problem,
    steps: Tensor,
    rtol: float,
    atol: float,
    *,
    columns: Tensor | None = None,
    directions: Tensor | None = None,
    shrink: tuple[float, ...] = SHRINK_STEPS,
    levels: tuple[float, ...] = LEVELS,
) -> Estimate:
    """``differences``, with a smaller step for each column/direction whose error is too large.

    A column or direction is resolved when every output's error estimate is within
    ``atol + rtol·|value|``. The others are recomputed with the step divided by 16, up to
    ``shrink``; each keeps the whole estimate (all outputs) of the step whose worst
    error-to-limit ratio is smallest. Mixing outputs from different steps would pick, per
    output, estimates that merely look accurate where a breakpoint lies inside the stencil.
    """
    est = differences(problem, steps, columns=columns, directions=directions, levels=levels)
    fields = [_present(t).clone() for t in (est.value, est.error, est.change, est.rounding)]

    def score(value: Tensor, error: Tensor) -> Tensor:
        ratio = error / (atol + rtol * value.abs())
        ratio = torch.where(torch.isfinite(ratio), ratio, torch.full_like(ratio, math.inf))
        return ratio.amax(1) if ratio.shape[1] else ratio.new_zeros(ratio.shape[0])

    best = score(fields[0], fields[1])
    rows = torch.arange(fields[0].shape[0])
    for factor in shrink:
        rows = rows[~(best[rows] <= 1.0)]
        if not rows.numel():
            break
        finer = differences(
            problem,
            steps[rows] * factor,
            columns=None if columns is None else columns[rows],
            directions=None if directions is None else directions[rows],
            levels=levels,
        )
        new = score(finer.value, finer.error)
        take = new < best[rows]
        if bool(take.any()):
            chosen = rows[take]
            for target, source in zip(
                fields, (finer.value, finer.error, finer.change, finer.rounding), strict=True
            ):
                target[chosen] = _present(source)[take]
            best[chosen] = new[take]
    return Estimate(*fields)


@dataclass(frozen=True)
class Screen:
    """f(x + h e_j) and f(x - h e_j) for every column j, as (K, M) each, and the steps."""

    plus: Tensor
    minus: Tensor
    steps: Tensor

    def central(self) -> Tensor:
        """The central differences (K, M)."""
        return (self.plus - self.minus) / (2 * self.steps[:, None])


def screen(problem: Problem, columns: Tensor, steps: Tensor) -> Screen:
    """Evaluate f(x ± h e_j) for every column j in as few batched calls as memory allows."""
    k_total = int(columns.shape[0])
    chunk = max(1, BATCH_ELEMENTS // (2 * max(problem.n, problem.m, 1)))
    plus, minus = [], []
    for start in range(0, k_total, chunk):
        cols = columns[start : start + chunk]
        h = steps[start : start + chunk]
        k = int(cols.shape[0])
        points = problem.x0.expand(2 * k, problem.n).clone()
        points[torch.arange(2 * k), cols.repeat(2)] += torch.cat([h, -h])
        values = problem.evaluate(points)
        plus.append(values[:k])
        minus.append(values[k:])
    cat = torch.cat if len(plus) > 1 else (lambda parts: parts[0])
    return Screen(cat(plus), cat(minus), steps)
