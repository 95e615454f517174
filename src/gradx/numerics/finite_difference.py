"""Finite-difference derivatives with Richardson extrapolation and an error estimate.

Everything is batched: the stencil points of every level for every input point are stacked into
one tensor and the function is called once per pass. Steps are powers of two chosen from the
dtype's machine epsilon and the scale ``max(|x|, 1)`` of each point, so that ``x + h`` is exact
and the step fits both tiny and huge ``x``.

Central differences have an error expansion in even powers of h, so two Richardson passes over
the steps h, h/2, h/4 remove the h^2 and h^4 terms; the difference between the last two
extrapolants estimates the remaining error. Where a stencil leaves the function's domain (NaN or
inf) the step shrinks for those points only, and at a domain edge one-sided stencils take over.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import product

import torch

Tensor = torch.Tensor
Function = Callable[[Mapping[str, Tensor]], Tensor]

CENTRAL, FORWARD, BACKWARD = "central", "forward", "backward"
LEVELS = (1.0, 0.5, 0.25)
# Step multipliers tried, in order, for points whose estimate is not finite or not accurate.
SHRINK = tuple(16.0**-k for k in range(8))


@cache
def fornberg_weights(offsets: tuple[Fraction, ...], order: int) -> tuple[Fraction, ...]:
    """Exact weights w with sum(w_k f(x + o_k h)) / h^order ~ f^(order)(x) (Fornberg 1988)."""
    n = len(offsets)
    if order >= n:
        raise ValueError("need more stencil points than the derivative order")
    c = [[Fraction(0)] * (order + 1) for _ in range(n)]
    c[0][0] = Fraction(1)
    c1 = Fraction(1)
    for i in range(1, n):
        c2 = Fraction(1)
        for j in range(i):
            c3 = offsets[i] - offsets[j]
            c2 *= c3
            for k in range(min(i, order), -1, -1):
                left = k * c[i - 1][k - 1] if k else Fraction(0)
                c[i][k] = c1 * (left - offsets[i - 1] * c[i - 1][k]) / c2
            for k in range(min(i, order), -1, -1):
                left = k * c[j][k - 1] if k else Fraction(0)
                c[j][k] = (offsets[i] * c[j][k] - left) / c3
        c1 = c2
    return tuple(c[k][order] for k in range(n))


@cache
def stencil(order: int, scheme: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Integer offsets and float weights of a second-order-accurate stencil for one variable."""
    if scheme == CENTRAL:
        half = (order + 1) // 2
        offsets = tuple(range(-half, half + 1))
    else:
        sign = 1 if scheme == FORWARD else -1
        offsets = tuple(sign * k for k in range(order + 2))
    weights = fornberg_weights(tuple(Fraction(o) for o in offsets), order)
    return offsets, tuple(float(w) for w in weights)


@dataclass(frozen=True)
class FiniteDifference:
    """Per-point estimates of one derivative, with error estimates and the base step used."""

    estimate: Tensor
    error: Tensor
    step: Tensor


def machine_epsilon(dtype: torch.dtype) -> float:
    """Machine epsilon of a floating dtype."""
    return torch.finfo(dtype).eps


def base_step(x: Tensor, total_order: int, dtype: torch.dtype) -> Tensor:
    """A power-of-two step near eps^(1/(order+6)) * max(|x|, 1): balances rounding and truncation."""
    relative = machine_epsilon(dtype) ** (1.0 / (total_order + 6))
    scale = torch.clamp(x.detach().abs(), min=1.0).to(torch.float64)
    exponent = torch.round(torch.log2(relative * scale))
    return torch.pow(2.0, exponent).to(dtype)


def _richardson(levels: list[Tensor], powers: Sequence[int]) -> tuple[Tensor, Tensor]:
    """Extrapolate estimates at steps h, h/2, h/4 with error terms h^p1, h^p2."""
    p1, p2 = powers
    f1, f2 = 2.0**p1, 2.0**p2
    r0 = (f1 * levels[1] - levels[0]) / (f1 - 1)
    r1 = (f1 * levels[2] - levels[1]) / (f1 - 1)
    best = (f2 * r1 - r0) / (f2 - 1)
    return best, (best - r1).abs()


def derivative(
    f: Function,
    points: Mapping[str, Tensor],
    key: Sequence[str],
    *,
    scheme: str = CENTRAL,
    steps: Mapping[str, Tensor] | None = None,
) -> FiniteDifference:
    """One Richardson-extrapolated finite-difference estimate of the derivative ``key``.

    ``points`` maps every variable of ``f`` to a 1-D tensor (one entry per point); ``key`` lists
    the variables to differentiate by, repeated for higher orders (``("x", "x", "y")``).
    ``steps`` overrides the base step per variable.
    """
    counts = Counter(key)
    names = sorted(counts)
    total = sum(counts.values())
    dtype = next(iter(points.values())).dtype
    n = next(iter(points.values())).shape[0]
    eps = machine_epsilon(dtype)
    h = {v: (steps[v] if steps is not None else base_step(points[v], total, dtype)) for v in names}
    per_var = {v: stencil(counts[v], scheme) for v in names}
    nodes: list[tuple[tuple[int, ...], float]] = []
    for combo in product(*(range(len(per_var[v][0])) for v in names)):
        weight = math.prod(per_var[v][1][i] for v, i in zip(names, combo, strict=True))
        if weight != 0.0:
            offsets = tuple(per_var[v][0][i] for v, i in zip(names, combo, strict=True))
            nodes.append((offsets, weight))
    shifts = {
        v: torch.tensor([[o[k] * s] for s in LEVELS for o, _ in nodes], dtype=dtype)
        for k, v in enumerate(names)
    }
    env = {}
    for v, x in points.items():
        env[v] = x[None, :] + shifts[v] * h[v][None, :] if v in h else x[None, :]
    with torch.no_grad():
        values = f(env)
    values = torch.broadcast_to(values, (len(LEVELS) * len(nodes), n)).reshape(
        len(LEVELS), len(nodes), n
    )
    weights = torch.tensor([w for _, w in nodes], dtype=dtype)[None, :, None]
    level_scale = torch.tensor(LEVELS, dtype=dtype)[:, None]
    denominator = torch.ones(n, dtype=dtype)
    for v in names:
        denominator = denominator * h[v] ** counts[v]
    denominators = denominator[None, :] * level_scale**total
    estimates = (weights * values).sum(dim=1) / denominators
    powers = (2, 4) if scheme == CENTRAL else (2, 3)
    best, truncation = _richardson(list(estimates), powers)
    # The finest level's points bound the rounding error well enough, at a third of the cost.
    magnitude = values[-1].abs().amax(dim=0)
    spread = sum(abs(w) for _, w in nodes)
    rounding = 8 * eps * magnitude * spread / denominators[-1]
    step = h[names[0]] if names else torch.zeros(n, dtype=dtype)
    return FiniteDifference(best, truncation + rounding, step)


def robust_derivative(
    f: Function,
    points: Mapping[str, Tensor],
    key: Sequence[str],
    *,
    target: float,
) -> FiniteDifference:
    """``derivative`` with per-point step shrinking and a one-sided fallback at domain edges.

    Points whose estimate is not finite, or whose error estimate exceeds ``target`` relative to
    the estimate, are recomputed with smaller steps; the most accurate finite estimate is kept.
    """
    result = derivative(f, points, key)
    estimate, error, step = result.estimate.clone(), result.error.clone(), result.step.clone()
    names = sorted(set(key))
    dtype = estimate.dtype
    total = len(key)
    for factor in SHRINK[1:]:
        todo = _needs_work(estimate, error, target)
        if not bool(todo.any()):
            break
        idx = todo.nonzero().squeeze(1)
        sub = {v: t[idx] for v, t in points.items()}
        steps = {v: base_step(sub[v], total, dtype) * factor for v in names}
        retry = derivative(f, sub, key, steps=steps)
        _keep_better(estimate, error, step, idx, retry)
    todo = ~torch.isfinite(estimate)
    if bool(todo.any()):
        idx = todo.nonzero().squeeze(1)
        sub = {v: t[idx] for v, t in points.items()}
        for scheme in (FORWARD, BACKWARD):
            for factor in SHRINK:
                steps = {v: base_step(sub[v], total, dtype) * factor for v in names}
                retry = derivative(f, sub, key, scheme=scheme, steps=steps)
                _keep_better(estimate, error, step, idx, retry)
    return FiniteDifference(estimate, error, step)


def _needs_work(estimate: Tensor, error: Tensor, target: float) -> Tensor:
    return (
        ~torch.isfinite(estimate)
        | ~torch.isfinite(error)
        | (error > target * torch.clamp(estimate.abs(), min=1.0))
    )


def _keep_better(
    estimate: Tensor, error: Tensor, step: Tensor, idx: Tensor, retry: FiniteDifference
) -> None:
    old_est, old_err = estimate[idx], error[idx]
    finite_new = torch.isfinite(retry.estimate) & torch.isfinite(retry.error)
    finite_old = torch.isfinite(old_est) & torch.isfinite(old_err)
    better = finite_new & (~finite_old | (retry.error < old_err))
    estimate[idx] = torch.where(better, retry.estimate, old_est)
    error[idx] = torch.where(better, retry.error, old_err)
    step[idx] = torch.where(better, retry.step, step[idx])
