"""Why a point is special: breakpoints of non-smooth functions, domain errors, kinks and jumps.

All functions here are batched over points. They look at the expression tree node by node (the
innermost node whose output goes bad names the cause) and at one-sided finite differences
(a kink is where the left and right derivatives keep disagreeing as the step shrinks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from gradx.expression.to_torch import evaluate
from gradx.expression.tree import (
    OPERATOR_SYMBOLS,
    Call,
    Node,
    Number,
    ParsedExpression,
    Variable,
    walk,
)
from gradx.expression.vocabulary import (
    AtMost,
    Condition,
    Equals,
    EqualsArg,
    IsInteger,
    breakpoints_of,
)
from gradx.numerics import finite_difference as fd
from gradx.text import short_number as _fmt
from gradx.translations import N_, Phrase, phrase

Tensor = torch.Tensor


def _is_integer(t: Tensor) -> Tensor:
    return t == torch.round(t)


# Where a function's value is undefined or infinite (a domain error, not an overflow).
_VALUE_DOMAIN: dict[str, tuple[Callable[..., Tensor], str]] = {
    "log": (
        lambda a, b=None: (a <= 0) if b is None else (a <= 0) | (b <= 0) | (b == 1),
        N_("the logarithm is undefined for arguments <= 0"),
    ),
    "log2": (lambda a: a <= 0, N_("the logarithm is undefined for arguments <= 0")),
    "log10": (lambda a: a <= 0, N_("the logarithm is undefined for arguments <= 0")),
    "log1p": (lambda a: a <= -1, N_("log1p is undefined for arguments <= -1")),
    "sqrt": (lambda a: a < 0, N_("the square root of a negative number is not real")),
    "asin": (lambda a: a.abs() > 1, N_("asin is undefined outside [-1, 1]")),
    "acos": (lambda a: a.abs() > 1, N_("acos is undefined outside [-1, 1]")),
    "acosh": (lambda a: a < 1, N_("acosh is undefined below 1")),
    "atanh": (lambda a: a.abs() >= 1, N_("atanh is undefined outside (-1, 1)")),
    "div": (lambda a, b: b == 0, N_("division by zero")),
    "pow": (
        lambda a, b: ((a < 0) & ~_is_integer(b)) | ((a == 0) & (b < 0)),
        N_("a negative number to a non-integer power, or 0 to a negative power"),
    ),
    "cot": (lambda a: torch.sin(a) == 0, N_("cot has a pole where sin is 0")),
    "csc": (lambda a: torch.sin(a) == 0, N_("csc has a pole where sin is 0")),
    "tan": (lambda a: torch.cos(a) == 0, N_("tan has a pole where cos is 0")),
    "sec": (lambda a: torch.cos(a) == 0, N_("sec has a pole where cos is 0")),
    "csch": (lambda a: a == 0, N_("csch has a pole at 0")),
    "coth": (lambda a: a == 0, N_("coth has a pole at 0")),
    "acsch": (lambda a: a == 0, N_("acsch has a pole at 0")),
    "logit": (lambda a: (a <= 0) | (a >= 1), N_("logit is undefined outside (0, 1)")),
    "erfinv": (lambda a: a.abs() >= 1, N_("erfinv is undefined outside (-1, 1)")),
    "lgamma": (lambda a: (a <= 0) & _is_integer(a), N_("lgamma has poles at 0, -1, -2, ...")),
    "digamma": (lambda a: (a <= 0) & _is_integer(a), N_("digamma has poles at 0, -1, -2, ...")),
    "xlogy": (
        lambda a, b: (a != 0) & (b <= 0),
        N_("the logarithm is undefined for arguments <= 0"),
    ),
    "asec": (lambda a: a.abs() < 1, N_("asec is undefined inside (-1, 1)")),
    "acsc": (lambda a: a.abs() < 1, N_("acsc is undefined inside (-1, 1)")),
    "asech": (lambda a: (a <= 0) | (a > 1), N_("asech is undefined outside (0, 1]")),
    "acoth": (lambda a: a.abs() <= 1, N_("acoth is undefined inside [-1, 1]")),
}

# Where a function is finite but its derivative is infinite or undefined.
_DERIVATIVE_SINGULAR: dict[str, tuple[Callable[..., Tensor], str]] = {
    "sqrt": (lambda a: a == 0, N_("sqrt has an infinite derivative at 0")),
    "cbrt": (lambda a: a == 0, N_("cbrt has an infinite derivative at 0")),
    "asin": (lambda a: a.abs() == 1, N_("asin has an infinite derivative at -1 and 1")),
    "acos": (lambda a: a.abs() == 1, N_("acos has an infinite derivative at -1 and 1")),
    "acosh": (lambda a: a == 1, N_("acosh has an infinite derivative at 1")),
    "asec": (lambda a: a.abs() == 1, N_("asec has an infinite derivative at -1 and 1")),
    "acsc": (lambda a: a.abs() == 1, N_("acsc has an infinite derivative at -1 and 1")),
    "asech": (lambda a: a == 1, N_("asech has an infinite derivative at 1")),
    "pow": (
        lambda a, b: (a == 0) & ~_is_integer(b),
        N_("a power with a non-integer exponent has no finite derivative at base 0"),
    ),
    "hypot": (lambda a, b: (a == 0) & (b == 0), N_("hypot has no derivative at (0, 0)")),
    "atan2": (lambda a, b: (a == 0) & (b == 0), N_("atan2 has no derivative at (0, 0)")),
    "div": (lambda a, b: b == 0, N_("division by zero")),
}


def _breakpoint_masks(fn: str, args: Sequence[Tensor], tiny: float) -> Tensor | None:
    """Points where a non-smooth function's arguments sit (nearly) on one of its breakpoints,
    as declared in the vocabulary; None for functions without breakpoints (and operators)."""
    breakpoints = breakpoints_of(fn)
    if not breakpoints:
        return None
    hit = torch.zeros_like(args[0], dtype=torch.bool)
    for conditions in breakpoints:
        holds = torch.ones_like(hit)
        for condition in conditions:
            holds = holds & _condition_mask(condition, args, tiny)
        hit = hit | holds
    return hit


def _condition_mask(condition: Condition, args: Sequence[Tensor], tiny: float) -> Tensor:
    def near(a: Tensor, b: Tensor | float) -> Tensor:
        scale = torch.clamp(torch.maximum(a.abs(), torch.as_tensor(b).abs()), min=1.0)
        return (a - b).abs() <= tiny * scale

    if isinstance(condition, Equals):
        return near(args[condition.arg], condition.value)
    if isinstance(condition, EqualsArg):
        return near(args[condition.arg], condition.target(args))
    if isinstance(condition, AtMost):
        a = args[condition.arg]
        return (a <= condition.value) | near(a, condition.value)
    if isinstance(condition, IsInteger):
        a = args[condition.arg]
        integer = near(a, torch.round(a)) if not condition.negate else _is_integer(a)
        return ~integer if condition.negate else integer
    hit = torch.zeros_like(args[0], dtype=torch.bool)
    for i in range(len(args)):
        for j in range(i + 1, len(args)):
            hit = hit | near(args[i], args[j])
    return hit


@dataclass(frozen=True)
class NodeValues:
    """The value of every node of a tree at a batch of points."""

    parsed: ParsedExpression
    nodes: tuple[Node, ...]  # post-order: children before parents
    values: dict[int, Tensor]

    def of(self, node: Node) -> Tensor:
        """The value of one node."""
        return self.values[id(node)]


def node_values(
    parsed: ParsedExpression, env: Mapping[str, Tensor], dtype: torch.dtype
) -> NodeValues:
    """Evaluate the tree once, keeping the value of every node (for cause finding)."""
    trace: dict[int, Tensor] = {}
    with torch.no_grad():
        evaluate(parsed.root, env, dtype, trace)
    shape = next(iter(env.values())).shape
    ordered = tuple(reversed(list(walk(parsed.root))))
    for node in ordered:
        if isinstance(node, Variable):
            trace[id(node)] = env[node.name]
        elif isinstance(node, Number):
            trace[id(node)] = torch.tensor(node.value, dtype=dtype)
        elif not isinstance(node, Call):
            trace[id(node)] = evaluate(node, env, dtype)
        trace[id(node)] = torch.broadcast_to(trace[id(node)], shape)
    return NodeValues(parsed, ordered, trace)


def breakpoint_hits(values: NodeValues, tiny: float) -> tuple[Tensor, Tensor]:
    """Per point: whether some non-smooth node sits on its breakpoint, and which (-1: none)."""
    shape = values.of(values.parsed.root).shape
    hit = torch.zeros(shape, dtype=torch.bool)
    which = torch.full(shape, -1, dtype=torch.long)
    for index, node in enumerate(values.nodes):
        if not isinstance(node, Call):
            continue
        mask = _breakpoint_masks(node.function, [values.of(a) for a in node.args], tiny)
        if mask is None:
            continue
        which = torch.where(mask & ~hit, index, which)
        hit = hit | mask
    return hit, which


@dataclass(frozen=True)
class Causes:
    """Per point, the innermost node that explains a non-finite result (index -1: none found)."""

    node: Tensor  # index into NodeValues.nodes
    is_domain: Tensor  # True: a domain error or pole; False: an overflow or unexplained


def value_causes(values: NodeValues) -> Causes:
    """Why f is NaN or infinite: the innermost node whose output goes non-finite."""
    shape = values.of(values.parsed.root).shape
    node = torch.full(shape, -1, dtype=torch.long)
    is_domain = torch.zeros(shape, dtype=torch.bool)
    for index, current in enumerate(values.nodes):
        if not isinstance(current, Call):
            continue
        args = [values.of(a) for a in current.args]
        out = values.of(current)
        fresh = ~torch.isfinite(out) & (node < 0)
        for a in args:
            fresh = fresh & torch.isfinite(a)
        if not bool(fresh.any()):
            continue
        rule = _VALUE_DOMAIN.get(current.function)
        domain = rule[0](*args) if rule else torch.zeros(shape, dtype=torch.bool)
        node = torch.where(fresh, index, node)
        is_domain = torch.where(fresh, domain, is_domain)
    return Causes(node, is_domain)


def derivative_causes(values: NodeValues) -> Causes:
    """Why a derivative is infinite where f is finite: a node at a singular point of its own."""
    shape = values.of(values.parsed.root).shape
    node = torch.full(shape, -1, dtype=torch.long)
    for index, current in enumerate(values.nodes):
        if not isinstance(current, Call):
            continue
        rule = _DERIVATIVE_SINGULAR.get(current.function)
        if rule is None:
            continue
        mask = rule[0](*(values.of(a) for a in current.args)) & (node < 0)
        node = torch.where(mask, index, node)
    return Causes(node, node >= 0)


def has_bad_local_gradient(values: NodeValues, node: Call, point: int) -> bool:
    """Whether one node, at one point, is non-finite from finite arguments or sits where its
    own derivative is singular (so a gradient through it is NaN or infinite)."""
    args = [values.of(a)[point] for a in node.args]
    if not all(bool(torch.isfinite(a)) for a in args):
        return False
    if not bool(torch.isfinite(values.of(node)[point])):
        return True
    rule = _DERIVATIVE_SINGULAR.get(node.function)
    return rule is not None and bool(rule[0](*args))


def describe_value_cause(values: NodeValues, index: int, point: int) -> Phrase:
    """A sentence naming the node that made f non-finite at one point."""
    node = values.nodes[index]
    assert isinstance(node, Call)
    out = float(values.of(node)[point])
    rule = _VALUE_DOMAIN.get(node.function)
    where = _where(values, node, point)
    if rule is not None and bool(rule[0](*(values.of(a)[point] for a in node.args))):
        return phrase(
            "{where} is {value}: {rule}", where=where, value=_fmt(out), rule=phrase(rule[1])
        )
    return phrase("{where} overflows to {value}", where=where, value=_fmt(out))


def _where(values: NodeValues, node: Call, point: int) -> Phrase | str:
    """``log(x) at argument -1`` or, for operators, ``1/x = 1 / 0``."""
    text = values.parsed.text_of(node)
    args = [_fmt(float(values.of(a)[point])) for a in node.args]
    if node.function in OPERATOR_SYMBOLS:
        symbol = OPERATOR_SYMBOLS[node.function]
        shown = f"{symbol}{args[0]}" if len(args) == 1 else f" {symbol} ".join(args)
        return f"{text} = {shown}"
    return phrase("{node} at argument {arguments}", node=text, arguments=", ".join(args))


def describe_derivative_cause(values: NodeValues, index: int, point: int) -> Phrase:
    """A sentence naming the node whose derivative is singular at one point."""
    node = values.nodes[index]
    assert isinstance(node, Call)
    rule = phrase(_DERIVATIVE_SINGULAR[node.function][1])
    return phrase("{what}: {cause}", what=_where(values, node, point), cause=rule)


def describe_breakpoint(values: NodeValues, index: int) -> str:
    """The source text of a non-smooth node, for notes like 'relu(x) at its breakpoint'."""
    return values.parsed.text_of(values.nodes[index])


# ---------------------------------------------------------------- kinks and jumps

SMOOTH, KINK, JUMP, EDGE = 0, 1, 2, 3


@dataclass(frozen=True)
class KinkAnalysis:
    """Per point: SMOOTH, KINK, JUMP or EDGE (one side outside the domain), with evidence.

    For a kink, ``left`` and ``right`` are the one-sided derivatives of order ``level`` along
    ``variable``; for a jump they are the one-sided limits of f. ``clear_step`` is, for smooth
    points, the largest probe step at which both sides agreed (a kink may lie just beyond it),
    so a finite-difference estimate with that step does not straddle it.
    """

    kind: Tensor
    level: Tensor
    variable: Tensor  # index into the analysed variables
    left: Tensor
    right: Tensor
    clear_step: Tensor


def analyse_kinks(
    f: fd.Function,
    points: Mapping[str, Tensor],
    variables: Sequence[str],
    max_level: int,
) -> KinkAnalysis:
    """Look for jumps of f and kinks of its derivatives up to ``max_level`` at each point.

    Works in float64 with one-sided finite differences at steps from 1e-3 down to the rounding
    floor (times max(|x|, 1)); a disagreement that persists to the smallest step is a kink at
    the point, one that vanishes is a kink nearby, which the returned ``clear_step`` avoids.
    """
    n = next(iter(points.values())).shape[0]
    kind = torch.full((n,), SMOOTH, dtype=torch.long)
    level = torch.zeros(n, dtype=torch.long)
    variable = torch.zeros(n, dtype=torch.long)
    left = torch.full((n,), math.nan, dtype=torch.float64)
    right = torch.full((n,), math.nan, dtype=torch.float64)
    clear = torch.full((n,), math.inf, dtype=torch.float64)
    with torch.no_grad():
        center = torch.broadcast_to(f(points), (n,))
    for vi, v in enumerate(variables):
        scale = torch.clamp(points[v].abs(), min=1.0)
        for lev in range(0, max_level + 1):
            steps = _probe_steps(lev)
            disagree_all = torch.ones(n, dtype=torch.bool)
            edge = torch.ones(n, dtype=torch.bool)
            first_agree = torch.full((n,), math.inf, dtype=torch.float64)
            last_l = last_r = center
            for h_rel in steps:
                h = scale * h_rel
                lo, hi, differ, agree, is_edge = _one_sided(f, points, v, lev, h, center)
                edge = edge & is_edge  # an edge only if one side stays undefined at every step
                first_agree = torch.where(agree & torch.isinf(first_agree), h, first_agree)
                disagree_all = disagree_all & differ
                last_l, last_r = lo, hi
            smallest = scale * steps[-1] / 8
            clear = torch.minimum(
                clear, torch.where(torch.isinf(first_agree), smallest, first_agree)
            )
            undecided = kind == SMOOTH
            new_edge = undecided & edge
            kind = torch.where(new_edge, EDGE, kind)
            found = undecided & ~edge & disagree_all
            kind = torch.where(found, JUMP if lev == 0 else KINK, kind)
            level = torch.where(found | new_edge, lev, level)
            variable = torch.where(found | new_edge, vi, variable)
            left = torch.where(found, last_l, left)
            right = torch.where(found, last_r, right)
    return KinkAnalysis(kind, level, variable, left, right, clear)


def _probe_steps(level: int) -> tuple[float, ...]:
    floor = {0: 1e-9, 1: 1e-7, 2: 1e-5}.get(level, 1e-3)
    steps = [1e-3]
    while steps[-1] / 100 >= floor * 0.999:
        steps.append(steps[-1] / 100)
    return tuple(steps)


def _one_sided(
    f: fd.Function,
    points: Mapping[str, Tensor],
    v: str,
    level: int,
    h: Tensor,
    center: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Left and right estimates at one step (limits of f for level 0), and what they show.

    Returns (left, right, differ, agree, edge): ``differ`` when the sides disagree beyond their
    error estimates, ``agree`` when they agree and the estimates are accurate (a stencil that
    straddles a nearby kink is inaccurate, so it neither differs nor agrees), ``edge`` when one
    side is outside the domain.
    """
    eps = fd.machine_epsilon(torch.float64)
    if level == 0:
        with torch.no_grad():
            plus = dict(points)
            minus = dict(points)
            plus[v] = points[v] + h
            minus[v] = points[v] - h
            hi = torch.broadcast_to(f(plus), center.shape)
            lo = torch.broadcast_to(f(minus), center.shape)
        edge = torch.isfinite(center) & (~torch.isfinite(hi) | ~torch.isfinite(lo))
        # A continuous function changes by about |f'| h; a jump does not shrink with h.
        slope = _slope_bound(f, points, v, h, center)
        tol = 50 * slope * h + 1e3 * eps * (center.abs() + 1)
        differ = (hi - lo).abs() > tol
        return lo, hi, differ, ~differ & ~edge, edge
    key = (v,) * level
    steps = {v: h}
    right = fd.derivative(f, points, key, scheme=fd.FORWARD, steps=steps)
    left = fd.derivative(f, points, key, scheme=fd.BACKWARD, steps=steps)
    edge = ~torch.isfinite(right.estimate) | ~torch.isfinite(left.estimate)
    magnitude = torch.maximum(right.estimate.abs(), left.estimate.abs())
    error = right.error + left.error
    gap = (right.estimate - left.estimate).abs()
    differ = ~edge & (gap > 3 * error + 1e-9 * (magnitude + 1))
    agree = ~edge & ~differ & (error <= 1e-6 * (magnitude + 1))
    return left.estimate, right.estimate, differ, agree, edge


def _slope_bound(
    f: fd.Function, points: Mapping[str, Tensor], v: str, h: Tensor, center: Tensor
) -> Tensor:
    """|f'| from differences at 2h and 3h on each side (outside the interval being probed)."""
    out = torch.zeros_like(center)
    with torch.no_grad():
        for sign in (1.0, -1.0):
            a = dict(points)
            b = dict(points)
            a[v] = points[v] + sign * 2 * h
            b[v] = points[v] + sign * 3 * h
            slope = (
                torch.broadcast_to(f(b), center.shape) - torch.broadcast_to(f(a), center.shape)
            ).abs() / h
            out = torch.maximum(out, torch.nan_to_num(slope, nan=0.0, posinf=0.0))
    return out
