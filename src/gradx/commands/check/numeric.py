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
    """Numeric derivatives (K, M) along K columns or directions, and their error estimates."""

    value: Tensor
    error: Tensor


def screen_step(x: Tensor, dtype: torch.dtype) -> Tensor:
    """A power-of-two step near eps^(1/3) * max(|x|, 1): the best single central difference."""
    scale = torch.clamp(x.detach().abs(), min=1.0).to(torch.float64)
    exponent = torch.round(torch.log2(machine_epsilon(dtype) ** (1 / 3) * scale))
    return torch.pow(2.0, exponent).to(dtype)


def refine_step(x: Tensor, dtype: torch.dtype) -> Tensor:
    """The step ``finite_difference`` uses for a first derivative with two Richardson passes."""
    return base_step(x, 1, dtype)


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
    values, errors = [], []
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
    return Estimate(torch.cat(values), torch.cat(errors))


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
    eps = machine_epsilon(dtype)
    spread = sum(abs(w) for _, w in nodes)
    magnitude = torch.linalg.vector_norm(values, ord=math.inf, dim=(1, 2))  # max |values|
    del values  # as large as the batch: gone before the extrapolation's temporaries
    rounding = 8 * eps * magnitude * spread / (steps[:, None] * min(levels))
    if len(levels) == 1:
        return Estimate(per_level[:, 0], rounding)
    p1, p2 = (2, 4) if scheme == CENTRAL else (2, 3)
    f1 = 2.0**p1
    if len(levels) == 2:
        best = (f1 * per_level[:, 1] - per_level[:, 0]) / (f1 - 1)
        return Estimate(best, (best - per_level[:, 1]).abs() + rounding)
    f2 = 2.0**p2
    r0 = (f1 * per_level[:, 1] - per_level[:, 0]) / (f1 - 1)
    r1 = (f1 * per_level[:, 2] - per_level[:, 1]) / (f1 - 1)
    best = (f2 * r1 - r0) / (f2 - 1)
    return Estimate(best, (best - r1).abs() + rounding)


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
