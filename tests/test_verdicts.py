"""Verdicts per point: ok, nondifferentiable (kinks and jumps), domain, mismatch, with their notes."""

from __future__ import annotations

import pytest

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression


def judge(expression, at, **options):
    report = evaluate_expression(EvalRequest(expression, at=(at,), **options))
    (row,) = report.rows
    return row


@pytest.mark.parametrize(
    ("expression", "at", "status", "phrases"),
    [
        # kinks: left and right derivatives differ; torch's convention is named, never a mismatch
        (
            "abs(x)",
            "0",
            Status.NONDIFFERENTIABLE,
            ["left derivative -1", "right derivative 1", "returns 0"],
        ),
        (
            "relu(x)",
            "0",
            Status.NONDIFFERENTIABLE,
            ["left derivative 0", "right derivative 1", "sympy gives 0.5"],
        ),
        (
            "clamp(x, -1, 1)",
            "1",
            Status.NONDIFFERENTIABLE,
            ["left derivative 1", "right derivative 0"],
        ),
        (
            "max(x, 2*x)",
            "0",
            Status.NONDIFFERENTIABLE,
            ["left derivative 1", "right derivative 2", "returns 1.5"],
        ),
        ("max(x, y)", "x=1,y=1", Status.NONDIFFERENTIABLE, ["kink"]),
        # jumps
        (
            "sign(x)",
            "0",
            Status.NONDIFFERENTIABLE,
            ["f jumps here", "left limit -1", "right limit 1"],
        ),
        (
            "floor(x)",
            "2",
            Status.NONDIFFERENTIABLE,
            ["f jumps here", "left limit 1", "right limit 2"],
        ),
        # not kinks: smooth points next to or through a non-smooth function
        ("abs(x)", "1e-7", Status.OK, []),
        ("relu(x)", "1e-7", Status.OK, []),
        ("relu(x)", "-1e-7", Status.OK, []),
        ("abs(x)**3", "0", Status.OK, []),
        ("floor(x)", "2.5", Status.OK, []),
        # domain: f or the derivative is undefined, and the row names the cause
        (
            "log(x)",
            "-1",
            Status.DOMAIN,
            ["log(x) at argument -1 is nan", "undefined for arguments <= 0"],
        ),
        ("log(x)", "0", Status.DOMAIN, ["log(x) at argument 0 is -inf"]),
        ("1/x", "0", Status.DOMAIN, ["1/x = 1 / 0 is inf", "division by zero"]),
        ("sqrt(x)", "0", Status.DOMAIN, ["sqrt has an infinite derivative at 0"]),
        ("asin(x)", "2", Status.DOMAIN, ["asin is undefined outside [-1, 1]"]),
        ("cbrt(x)", "0", Status.DOMAIN, ["cbrt has an infinite derivative at 0"]),
        # mismatch: autograd is wrong or unusable where the true derivative exists
        (
            "sqrt(x**2)",
            "0",
            Status.MISMATCH,
            ["kink", "returns nan, which is not a usable gradient"],
        ),
        (
            "relu(x) - relu(-x)",
            "0",
            Status.MISMATCH,
            [
                "autograd gives 0, but symbolic and numeric agree on 1",
                "relu(-x) is at its breakpoint",
            ],
        ),
        # overflow: f is not representable, like a domain error (not autograd's fault)
        ("exp(x)", "1000", Status.DOMAIN, ["exp(x) at argument 1000 overflows to inf"]),
        ("x^2", "1e308", Status.DOMAIN, ["x^2 = 1e+308 ** 2 overflows to inf"]),
    ],
)
def test_verdicts_and_notes(expression, at, status, phrases):
    row = judge(expression, at if "=" in at else f"x={at}")
    assert row.status is status, row
    for phrase in phrases:
        assert phrase in str(row.note), row.note
    if status is Status.OK:
        assert row.note is None
        assert row.error is not None and row.error < 1e-9
    if status in (Status.NONDIFFERENTIABLE, Status.DOMAIN):
        assert row.error is None


def test_float32_overflow_is_domain_and_says_float32():
    row = judge("exp(x)", "x=100", dtype="float32")
    assert row.status is Status.DOMAIN
    assert "overflows float32" in str(row.note)


def test_float32_smooth_points_are_ok_with_float32_tolerances():
    report = evaluate_expression(
        EvalRequest("sin(x)*exp(-x^2/10)", ranges=("-10:10",), steps=201, dtype="float32")
    )
    assert report.summary.ok == 201


def test_second_derivative_through_a_kink_of_the_first():
    row = judge("abs(x)", "x=0", order=2)
    assert row.status is Status.NONDIFFERENTIABLE
    row = judge("x*abs(x)", "x=0", order=2)
    assert row.status is Status.NONDIFFERENTIABLE
    assert "derivative 1 has a kink" in str(row.note)


def test_symbolic_overflow_in_float64_is_recomputed_exactly():
    # sympy's logsigmoid' = exp(-x)/(1 + exp(-x)) is inf/inf in float64 at x = -800 (softplus
    # itself is torch's piecewise function, linear there)
    row = judge("logsigmoid(x)", "x=-800")
    assert row.status is Status.OK
    assert row.derivatives[0].symbolic == pytest.approx(1.0)


def test_hessian_of_two_variables():
    row = judge("x**2*y + sin(y)", "x=1,y=2", order=2)
    values = {d.key: d.autograd for d in row.derivatives}
    assert values[("x", "x")] == pytest.approx(4.0)
    assert values[("x", "y")] == pytest.approx(2.0)
    assert values[("y", "y")] == pytest.approx(-0.9092974268256817)
    assert row.status is Status.OK


def test_kink_in_one_variable_only_marks_that_derivative():
    row = judge("abs(x) + y**2", "x=0,y=1")
    statuses = {d.key: d.status for d in row.derivatives}
    assert statuses == {("x",): Status.NONDIFFERENTIABLE, ("y",): Status.OK}
    assert row.status is Status.NONDIFFERENTIABLE
    assert str(row.note).startswith("∂f/∂x: kink")


def test_tolerance_overrides_can_turn_a_mismatch_into_ok():
    assert judge("relu(x) - relu(-x)", "x=0").status is Status.MISMATCH
    assert judge("relu(x) - relu(-x)", "x=0", rtol=10.0, atol=10.0).status is Status.OK


def test_long_ranges_keep_the_interesting_rows():
    report = evaluate_expression(EvalRequest("abs(x)", ranges=("-1:1",), steps=1001))
    assert report.summary.points == 1001
    assert report.summary.nondifferentiable == 1
    assert report.summary.ok == 1000
    shown = {row.index for row in report.rows}
    assert {0, 500, 1000} <= shown
    assert report.hidden_rows == 1001 - len(report.rows)
    assert len(report.rows) < 30


def test_exploding_symbolic_derivatives_are_skipped_not_waited_for():
    nested = "x"
    for _ in range(40):
        nested = f"sin({nested})"
    report = evaluate_expression(EvalRequest(nested, at=("x=0.5",), order=6))
    assert report.header.keys[-1] == ("x",) * 6
    assert report.header.derivatives[-1].startswith(
        "(not computed: the symbolic derivative has more than"
    )
    (row,) = report.rows
    assert row.derivatives[-1].symbolic is None
    assert row.status is Status.OK  # judged against finite differences alone


@pytest.mark.parametrize(
    ("expression", "at", "options"),
    [
        # sympy's formula is 0/0 here (pi*x**pi/x, y*x**y/x): its limit is the symbolic value
        ("x^pi", "x=0", {"dtype": "float32"}),
        ("x^y + x", "x=0,y=1", {}),
        # f'' jumps at 0, so central differences are biased there; one-sided ones are not
        ("x*(abs(x) + x)", "x=0", {}),
    ],
)
def test_removable_singularities_and_smooth_breakpoints_are_ok(expression, at, options):
    row = judge(expression, at, **options)
    assert row.status is Status.OK, row
    assert row.error is not None and row.error < 1e-6


@pytest.mark.parametrize(
    ("expression", "at", "order"),
    [("asin(x)", "x=1", 1), ("acos(x) + x", "x=-1", 1), ("cbrt(abs(acos(x)))", "x=-1", 2)],
)
def test_infinite_derivatives_at_domain_edges_are_domain_not_mismatch(expression, at, order):
    row = judge(expression, at, order=order)
    assert row.status is Status.DOMAIN, row
    assert "infinite derivative" in str(row.note)


def test_nan_at_a_jump_is_nondifferentiable_and_said_plainly():
    row = judge("atan2(x, x)", "x=0", order=2)
    assert row.status is Status.NONDIFFERENTIABLE
    assert "f jumps here" in str(row.note) and "torch autograd returns nan here" in str(row.note)


def test_a_true_autograd_error_at_a_domain_edge_stays_a_mismatch():
    # d/dx x^x -> -inf as x -> 0+, but torch's pow backward gives 0 at x = 0
    row = judge("x^x", "x=0")
    assert row.status is Status.MISMATCH
    assert "autograd gives 0 but symbolic gives -inf" in str(row.note)
