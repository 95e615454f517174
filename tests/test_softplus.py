"""``softplus(x, beta, threshold)``: torch's function, beta 1 and threshold 20 by default.

torch returns ``log(1 + exp(beta*x))/beta`` where ``beta*x <= threshold`` and ``x`` above, in
its forward and its backward alike, so the function jumps at ``x = threshold/beta`` (by
``log(1 + exp(-threshold))/beta``, 2e-9 with the defaults); its double backward counts that
point to the linear side. The switch is a declared breakpoint: at it gradx says
``nondifferentiable``, near it every path agrees.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
from gradx.errors import GradxError
from gradx.expression.constants import constant_value
from gradx.expression.parser import parse_expression
from gradx.expression.to_sympy import to_sympy
from gradx.expression.to_torch import evaluate

# (expression, beta, threshold): the defaults, a steeper and a negative beta, a low threshold.
PARAMETERS = [
    ("softplus(x)", 1.0, 20.0),
    ("softplus(x, 2)", 2.0, 20.0),
    ("softplus(x, 0.5, 3)", 0.5, 3.0),
    ("softplus(x, 1, 1)", 1.0, 1.0),
    ("softplus(x, -1)", -1.0, 20.0),
    ("F.softplus(x, beta=2, threshold=5)", 2.0, 5.0),
]


def _points(beta: float, threshold: float) -> list[float]:
    switch = threshold / beta
    return [-3.0, 0.0, 0.7, switch - 0.01, switch - 1e-4, switch + 1e-4, switch + 0.01, switch + 3]


@pytest.mark.parametrize(("expression", "beta", "threshold"), PARAMETERS)
def test_torch_path_is_torchs_softplus_with_its_parameters(expression, beta, threshold):
    parsed = parse_expression(expression)
    x = torch.tensor(_points(beta, threshold), dtype=torch.float64, requires_grad=True)
    ours = evaluate(parsed.root, {"x": x}, torch.float64)
    (grad,) = torch.autograd.grad(ours.sum(), x)
    y = x.detach().clone().requires_grad_(True)
    expected = F.softplus(y, beta=beta, threshold=threshold)
    (expected_grad,) = torch.autograd.grad(expected.sum(), y)
    assert torch.equal(ours.detach(), expected.detach())
    assert torch.equal(grad, expected_grad)


@pytest.mark.parametrize(("expression", "beta", "threshold"), PARAMETERS)
def test_symbolic_and_math_paths_are_the_same_function_on_both_sides(expression, beta, threshold):
    import sympy as sp

    from gradx.expression.to_sympy import symbol

    parsed = parse_expression(expression)
    f = to_sympy(parsed)
    df = sp.diff(f, symbol("x"))
    for point in _points(beta, threshold):
        linear = beta * point > threshold
        z = beta * point
        value = point if linear else math.log1p(math.exp(z)) / beta
        slope = 1.0 if linear else 1 / (1 + math.exp(-z))
        assert float(f.subs(symbol("x"), point)) == pytest.approx(value, rel=1e-12, abs=1e-300)
        assert float(df.subs(symbol("x"), point)) == pytest.approx(slope, rel=1e-12)
        constant = parse_expression(expression.replace("(x", f"(({point!r})", 1))
        assert constant_value(constant.root) == pytest.approx(value, rel=1e-12)
        torch_value = F.softplus(torch.tensor(point, dtype=torch.float64), beta, threshold)
        assert float(torch_value) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(("expression", "beta", "threshold"), PARAMETERS)
@pytest.mark.parametrize("order", [1, 2])
def test_near_the_switch_every_path_agrees(expression, beta, threshold, order):
    # The kink probes' smallest steps are 1e-7 (f') and 1e-5 (f'') times max(|x|, 1): a point
    # closer to the switch than that cannot be told apart from it.
    near = 1e-4 if order == 1 else 1e-2
    points = [p for p in _points(beta, threshold) if abs(p - threshold / beta) >= 0.99 * near]
    report = evaluate_expression(
        EvalRequest(expression, at=tuple(f"x={p!r}" for p in points), order=order)
    )
    assert len(report.rows) == len(points) >= 6
    for row in report.rows:
        assert row.status is Status.OK, row
        for derivative in row.derivatives:
            assert derivative.symbolic is not None and math.isfinite(derivative.numeric)


@pytest.mark.parametrize(("expression", "beta", "threshold"), PARAMETERS)
def test_the_switch_is_nondifferentiable_never_a_mismatch(expression, beta, threshold):
    switch = threshold / beta
    (row,) = evaluate_expression(EvalRequest(expression, at=(f"x={switch!r}",), order=2)).rows
    assert row.status is Status.NONDIFFERENTIABLE, row
    assert "at its breakpoint" in str(row.note)
    first = row.derivatives[0]
    # torch's backward takes the log side at the switch (it tests beta*x > threshold)
    assert first.autograd == pytest.approx(1 / (1 + math.exp(-threshold)), rel=1e-12)


def test_a_low_threshold_is_a_visible_jump():
    (row,) = evaluate_expression(EvalRequest("softplus(x, 1, 1)", at=("x=1",))).rows
    assert row.status is Status.NONDIFFERENTIABLE
    assert f"f jumps here (left limit {math.log1p(math.e):.6g}, right limit 1)" in str(row.note)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("softplus(x, 0)", "the beta of softplus must not be 0"),
        ("softplus(x, y)", "the beta of softplus must be a constant number, as in softplus(x, 1"),
        ("softplus(x, 1, x)", "the threshold of softplus must be a constant number"),
        ("softplus(x, 1, 2, 3)", "softplus() takes 1 to 3 arguments, got 4"),
        ("softplus(x, alpha=2)", "softplus() has no keyword argument alpha= (it takes beta="),
    ],
)
def test_parameters_must_be_sensible_constants(expression, message):
    with pytest.raises(GradxError) as caught:
        parse_expression(expression)
    assert message in caught.value.message


def test_cli_eval_and_graph_take_the_parameters(run_cli):
    result = run_cli("eval", "softplus(x, 2, 5)", "--at", "x=1")
    assert result.exit_code == 0, result.output
    assert "1 point: 1 ok" in result.stdout
    result = run_cli("graph", "softplus(x, 2, 5)", "--at", "x=1,3")
    assert result.exit_code == 0, result.output
    assert "SoftplusBackward0" in result.stdout
    assert "threshold=5.0" in result.stdout
    assert "[0.880797, 1]" in result.stdout  # sigmoid(2), then the linear side (2*3 > 5)
