"""Every function name of the expression language works on all four paths:
value (torch, checked against the math module), autograd, symbolic (sympy) and numeric."""

from __future__ import annotations

import math
import re

import pytest

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
from gradx.errors import GradxError
from gradx.expression.constants import MATH_FUNCTIONS, constant_value
from gradx.expression.parser import parse_expression
from gradx.expression.tree import OPERATORS
from gradx.expression.vocabulary import ALIASES, FUNCTIONS

# One smooth point inside the domain of each name, used as f(x) or f(x, y).
CASES = {
    "sin": ("sin(x)", "x=0.7"),
    "cos": ("cos(x)", "x=0.7"),
    "tan": ("tan(x)", "x=0.7"),
    "cot": ("cot(x)", "x=0.7"),
    "sec": ("sec(x)", "x=0.7"),
    "csc": ("csc(x)", "x=0.7"),
    "asin": ("asin(x)", "x=0.3"),
    "acos": ("acos(x)", "x=0.3"),
    "atan": ("atan(x)", "x=0.7"),
    "atan2": ("atan2(y, x)", "x=0.7,y=0.4"),
    "sinh": ("sinh(x)", "x=0.7"),
    "cosh": ("cosh(x)", "x=0.7"),
    "tanh": ("tanh(x)", "x=0.7"),
    "asinh": ("asinh(x)", "x=0.7"),
    "acosh": ("acosh(x)", "x=1.7"),
    "atanh": ("atanh(x)", "x=0.3"),
    "exp": ("exp(x)", "x=0.7"),
    "log": ("log(x) + log(x, 3)", "x=0.7"),
    "log2": ("log2(x)", "x=0.7"),
    "log10": ("log10(x)", "x=0.7"),
    "log1p": ("log1p(x)", "x=0.7"),
    "expm1": ("expm1(x)", "x=0.7"),
    "sqrt": ("sqrt(x)", "x=0.7"),
    "cbrt": ("cbrt(x)", "x=-0.7"),
    "abs": ("abs(x)", "x=-0.7"),
    "sign": ("sign(x)*x", "x=0.7"),
    "floor": ("floor(x) + x", "x=0.7"),
    "ceil": ("ceil(x) + x", "x=0.7"),
    "min": ("min(x, 1 - x, 2)", "x=0.3"),
    "max": ("max(x, 1 - x)", "x=0.3"),
    "clamp": ("clamp(x, -1, 1)", "x=0.3"),
    "relu": ("relu(x)", "x=0.7"),
    "sigmoid": ("sigmoid(x)", "x=0.7"),
    "softplus": ("softplus(x) + softplus(x, 2) + softplus(x, 0.5, 3) + softplus(x, -1)", "x=0.7"),
    "gelu": ("gelu(x)", "x=0.7"),
    "silu": ("silu(x)", "x=0.7"),
    "erf": ("erf(x)", "x=0.7"),
    "pow": ("pow(x, 3) + pow(2, x)", "x=0.7"),
    "hypot": ("hypot(x, y)", "x=0.7,y=0.4"),
    "elu": ("elu(x) + elu(x, 0.5)", "x=-0.7"),
    "selu": ("selu(x)", "x=-0.7"),
    "celu": ("celu(x) + celu(x, 2)", "x=-0.7"),
    "leaky_relu": ("leaky_relu(x) + leaky_relu(x, 0.2)", "x=-0.7"),
    "relu6": ("relu6(x)", "x=0.7"),
    "hardtanh": ("hardtanh(x) + hardtanh(x, -2, 2)", "x=0.7"),
    "hardsigmoid": ("hardsigmoid(x)", "x=0.7"),
    "hardswish": ("hardswish(x)", "x=0.7"),
    "softsign": ("softsign(x)", "x=-0.7"),
    "logsigmoid": ("logsigmoid(x)", "x=0.7"),
    "mish": ("mish(x)", "x=0.7"),
    "tanhshrink": ("tanhshrink(x)", "x=0.7"),
    "softshrink": ("softshrink(x) + softshrink(x, 0.2)", "x=0.7"),
    "hardshrink": ("hardshrink(x) + hardshrink(x, 0.2)", "x=0.7"),
    "erfc": ("erfc(x)", "x=0.7"),
    "erfinv": ("erfinv(x)", "x=0.7"),
    "lgamma": ("lgamma(x)", "x=-0.7"),
    "digamma": ("digamma(x)", "x=0.7"),
    "sinc": ("sinc(x)", "x=0.7"),
    "logit": ("logit(x)", "x=0.7"),
    "xlogy": ("xlogy(x, y)", "x=0.7,y=0.4"),
    "sech": ("sech(x)", "x=0.7"),
    "csch": ("csch(x)", "x=0.7"),
    "coth": ("coth(x)", "x=0.7"),
    "acot": ("acot(x)", "x=-0.7"),
    "asec": ("asec(x)", "x=1.7"),
    "acsc": ("acsc(x)", "x=-1.7"),
    "asech": ("asech(x)", "x=0.7"),
    "acsch": ("acsch(x)", "x=-0.7"),
    "acoth": ("acoth(x)", "x=1.7"),
}


def test_every_function_has_a_case_and_every_backend_knows_it():
    from gradx.expression.to_sympy import SYMPY_FUNCTIONS
    from gradx.expression.to_torch import TORCH_FUNCTIONS

    names = set(FUNCTIONS) | set(OPERATORS)
    assert set(CASES) == set(FUNCTIONS)
    assert names <= set(TORCH_FUNCTIONS)
    assert names <= set(SYMPY_FUNCTIONS)
    assert names <= set(MATH_FUNCTIONS)
    assert all(target in FUNCTIONS for target in ALIASES.values())


def test_reductions_are_tensor_only_declarations_with_a_torch_meaning():
    from gradx.expression.to_sympy import SYMPY_FUNCTIONS
    from gradx.expression.to_torch import TORCH_FUNCTIONS
    from gradx.expression.vocabulary import REDUCTIONS

    assert set(REDUCTIONS) == {"sum", "mean", "dot", "norm"}
    assert all(spec.kind == "reduction" for spec in REDUCTIONS.values())
    assert all(spec.kind == "elementwise" for spec in FUNCTIONS.values())
    assert not set(REDUCTIONS) & (set(FUNCTIONS) | set(ALIASES))
    assert set(REDUCTIONS) <= set(TORCH_FUNCTIONS) & set(MATH_FUNCTIONS)
    assert not set(REDUCTIONS) & set(SYMPY_FUNCTIONS)  # eval never sees them


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("order", [1, 2])
def test_every_function_on_every_path(name, order):
    expression, at = CASES[name]
    report = evaluate_expression(EvalRequest(expression, at=(at,), order=order))
    (row,) = report.rows
    # value: torch agrees with the math module evaluated at the same point
    parsed = parse_expression(expression)
    values = dict(row.at)
    substituted = re.sub(r"\b[xy]\b", lambda m: f"({values[m.group(0)]!r})", expression)
    assert row.value == pytest.approx(constant_value(parse_expression(substituted).root), rel=1e-12)
    assert parsed.variables == tuple(sorted(values))
    for derivative in row.derivatives:
        # autograd, symbolic and numeric all present, finite and in agreement
        assert derivative.symbolic is not None, derivative
        assert all(
            math.isfinite(v) for v in (derivative.autograd, derivative.symbolic, derivative.numeric)
        )
        assert derivative.status is Status.OK, (name, derivative)
    assert row.status is Status.OK


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_mean_the_same_function(alias):
    target = ALIASES[alias]
    args = "y, x" if FUNCTIONS[target].min_args == 2 else "x"
    at = (CASES[target][1],)
    a = evaluate_expression(EvalRequest(f"{alias}({args})", at=at)).rows[0]
    b = evaluate_expression(EvalRequest(f"{target}({args})", at=at)).rows[0]
    assert a.value == b.value
    assert [d.autograd for d in a.derivatives] == [d.autograd for d in b.derivatives]


def test_every_non_smooth_function_declares_its_breakpoints():
    # The words (docs) and the data (the kink machinery) must describe the same functions.
    for spec in FUNCTIONS.values():
        if spec.non_smooth:
            assert spec.breakpoints, spec.name
        for conditions in spec.breakpoints:
            for condition in conditions:
                arg = getattr(condition, "arg", 0)
                assert arg < spec.max_args, spec.name


def test_parameters_follow_the_declaration():
    for spec in FUNCTIONS.values():
        if spec.parameters:
            assert spec.max_args == spec.min_args + len(spec.parameters), spec.name


# Kinks and jumps of the activations: (expression, point, torch's value there, left, right).
KINKS = [
    ("hardtanh(x)", -1, 0.0, 0, 1),
    ("hardtanh(x)", 1, 0.0, 1, 0),
    ("hardtanh(x, -2, 2)", 2, 0.0, 1, 0),
    ("relu6(x)", 0, 0.0, 0, 1),
    ("relu6(x)", 6, 0.0, 1, 0),
    ("softshrink(x)", 0.5, 0.0, 0, 1),
    ("softshrink(x, 0.25)", -0.25, 0.0, 1, 0),
    ("leaky_relu(x)", 0, 0.01, 0.01, 1),
    ("leaky_relu(x, 0.2)", 0, 0.2, 0.2, 1),
    ("elu(x, 0.5)", 0, 0.5, 0.5, 1),
    ("selu(x)", 0, 1.7581, 1.7581, 1.0507),
    ("hardsigmoid(x)", -3, 0.0, 0, 0.166667),
    ("hardsigmoid(x)", 3, 0.0, 0.166667, 0),
    ("hardswish(x)", -3, 0.0, 0, -0.5),
    ("hardswish(x)", 3, 1.0, 1.5, 1),
]


@pytest.mark.parametrize(("expression", "x", "torch_value", "left", "right"), KINKS)
def test_activation_kinks_are_nondifferentiable_with_torchs_convention(
    expression, x, torch_value, left, right
):
    (row,) = evaluate_expression(EvalRequest(expression, at=(f"x={x}",))).rows
    assert row.status is Status.NONDIFFERENTIABLE, row
    assert row.derivatives[0].autograd == pytest.approx(torch_value, abs=1e-4)
    assert f"kink: left derivative {left:g}, right derivative {right:g}" in str(row.note)
    assert "by convention" in str(row.note)


@pytest.mark.parametrize("x", [-0.5, 0.5])
def test_hardshrink_jumps(x):
    (row,) = evaluate_expression(EvalRequest("hardshrink(x)", at=(f"x={x}",))).rows
    assert row.status is Status.NONDIFFERENTIABLE
    assert "f jumps here" in str(row.note)


@pytest.mark.parametrize(
    ("expression", "order", "status"),
    [
        ("elu(x)", 1, Status.OK),  # alpha = 1: the sides meet with slope 1
        ("celu(x, 2)", 1, Status.OK),
        ("celu(x, 2)", 2, Status.NONDIFFERENTIABLE),  # f'' jumps from 1/2 to 0
        ("softsign(x)", 2, Status.NONDIFFERENTIABLE),
        ("acot(x)", 1, Status.NONDIFFERENTIABLE),  # jumps from -pi/2 to pi/2
    ],
)
def test_smoothness_at_zero(expression, order, status):
    (row,) = evaluate_expression(EvalRequest(expression, at=("x=0",), order=order)).rows
    assert row.status is status, row


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("leaky_relu(x, y)", "the slope of leaky_relu must be a constant number"),
        ("softshrink(x, -1)", "the lambd of softshrink must be at least 0"),
        ("celu(x, 0)", "the alpha of celu must not be 0"),
        ("hardtanh(x, 2, -2)", "hardtanh(x, lo, hi) needs lo <= hi"),
        ("elu(x, 1, 2)", "elu() takes 1 to 2 arguments, got 3"),
    ],
)
def test_parameters_must_be_sensible_constants(expression, message):
    with pytest.raises(GradxError, match=re.escape(message)):
        parse_expression(expression)


def test_torch_quirk_sinc_second_derivative_at_0_is_nan():
    (row,) = evaluate_expression(EvalRequest("sinc(x)", at=("x=0",), order=2)).rows
    (second,) = [d for d in row.derivatives if d.key == ("x", "x")]
    assert math.isnan(second.autograd)
    assert row.status is Status.MISMATCH
    assert second.numeric == pytest.approx(-(math.pi**2) / 3, rel=1e-4)


def _point_on(spec, conditions):
    """Argument values that satisfy one declared breakpoint (a conjunction of conditions)."""
    from gradx.expression import vocabulary as v

    args = [0.5] * max(
        spec.min_args, 2 if any(isinstance(c, v.AnyTwoEqual) for c in conditions) else 1
    )
    args += [p.default for p in spec.parameters]
    for c in conditions:
        if isinstance(c, v.Equals):
            args[c.arg] = c.value
        elif isinstance(c, v.EqualsArg):
            args[c.arg] = c.target(args)
        elif isinstance(c, v.AtMost):
            args[c.arg] = c.value - 1
        elif isinstance(c, v.IsInteger):
            args[c.arg] = 0.5 if c.negate else 2.0
        else:
            args = [1.0] * len(args)
    return args


@pytest.mark.parametrize("name", sorted(n for n, spec in FUNCTIONS.items() if spec.breakpoints))
def test_every_declared_breakpoint_is_found_by_the_kink_machinery(name):
    import torch

    from gradx.commands.eval.special_points import _breakpoint_masks

    spec = FUNCTIONS[name]
    for conditions in spec.breakpoints:
        args = [torch.tensor([a], dtype=torch.float64) for a in _point_on(spec, conditions)]
        mask = _breakpoint_masks(name, args, 1e-15)
        assert mask is not None and bool(mask[0]), (name, conditions)
        away = [a + 0.123 for a in args[:1]] + args[1:]
        assert not bool(_breakpoint_masks(name, away, 1e-15)[0]), name
