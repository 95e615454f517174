"""Every function name of the expression language works on all four paths:
value (torch, checked against the math module), autograd, symbolic (sympy) and numeric."""

from __future__ import annotations

import math
import re

import pytest

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
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
    "softplus": ("softplus(x)", "x=0.7"),
    "gelu": ("gelu(x)", "x=0.7"),
    "silu": ("silu(x)", "x=0.7"),
    "erf": ("erf(x)", "x=0.7"),
    "pow": ("pow(x, 3) + pow(2, x)", "x=0.7"),
    "hypot": ("hypot(x, y)", "x=0.7,y=0.4"),
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
    at = ("x=0.3,y=0.2",) if FUNCTIONS[target].min_args == 2 else ("x=0.3",)
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
