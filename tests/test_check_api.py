"""``gradx.check`` and ``gradx.assert_gradients``: the Python API, as used inside tests."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import gradx
from gradx.commands.check.model import Verdict


class SignError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -3 * x**2 * grad


class OneWrongElement(torch.autograd.Function):
    """exp, with the gradient of element ``BAD`` 1% too large."""

    BAD = 12_345

    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        result = grad * y
        result[OneWrongElement.BAD] *= 1.01
        return result


def x64(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_import_gradx_stays_cheap_and_check_is_a_function():
    code = (
        "import sys, gradx\n"
        "print(callable(gradx.check), callable(gradx.assert_gradients), 'torch' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["True", "True", "False"], done.stderr


def test_check_returns_a_report_that_prints():
    report = gradx.check(torch.sin, x64(0.5, -1.25, 2.0))
    assert report.ok and report.verdict is Verdict.PASS and report.exit_code == 0
    (target,) = report.targets
    assert target.name == "sin" and target.entries_checked == 9
    text = str(report)
    assert "PASS      sin" in text and "1 target: 1 pass" in text


def test_a_wrong_function_is_reported_with_its_cause():
    report = gradx.check(SignError, x64(0.5, 1.5))
    assert not report.ok and report.verdict is Verdict.FAIL
    check = report.targets[0].checks[0]
    assert check.cause.id == "sign"
    assert [e.input_index for e in check.mismatches] == [(1,), (0,)]  # largest error first


def test_assert_gradients_passes_quietly_and_fails_with_the_readable_report():
    gradx.assert_gradients(torch.tanh, x64(0.25, -0.75))
    with pytest.raises(AssertionError) as raised:
        gradx.assert_gradients(SignError, x64(0.5, 1.5))
    message = str(raised.value)
    assert message.startswith("gradients do not match:")
    assert "FAIL SignError" in message
    assert "cause: sign error: autograd ≈ −numeric" in message
    assert "out[1]   x[1]" in message


def test_kinks_do_not_fail_the_assertion_unless_asked():
    report = gradx.assert_gradients(torch.relu, x64(0.0, 1.5))
    assert report.verdict is Verdict.NONDIFFERENTIABLE
    with pytest.raises(AssertionError, match="NONDIFF"):
        gradx.assert_gradients(torch.relu, x64(0.0), allow_nondifferentiable=False)


def test_module_instances_are_checked_with_their_parameters():
    torch.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    report = gradx.check(layer, torch.randn(3, dtype=torch.float64))
    check = report.targets[0].checks[0]
    assert report.ok
    assert [(i.name, i.kind) for i in check.inputs] == [
        ("input", "input"), ("weight", "parameter"), ("bias", "parameter"),
    ]  # fmt: skip
    assert check.entries_checked == 2 * (3 + 6 + 2)


@pytest.mark.filterwarnings("ignore:Input #0 requires gradient and is not a double")
def test_float32_and_huge_inputs_pass_where_gradcheck_defaults_fail():
    x32 = torch.tensor([0.3, 1.0, -2.0])
    assert not torch.autograd.gradcheck(torch.sin, (x32.requires_grad_(),), raise_exception=False)
    report = gradx.check(torch.sin, x32.detach())
    assert report.ok and report.settings.dtype == "float32" and report.settings.rtol == 1e-3
    huge = x64(1.3e9)
    assert not torch.autograd.gradcheck(
        lambda x: x**3, (huge.clone().requires_grad_(),), raise_exception=False
    )
    assert gradx.check(lambda x: x**3, huge).ok


def test_large_inputs_use_projections_and_find_the_one_wrong_element():
    x = torch.linspace(-1, 1, 20_000, dtype=torch.float64)
    report = gradx.check(OneWrongElement, x)
    check = report.targets[0].checks[0]
    assert check.method == "random projections"
    assert check.verdict is Verdict.FAIL and check.mismatch_count == 1
    entry = check.mismatches[0]
    assert entry.input_index == (OneWrongElement.BAD,) and entry.output_index == (
        OneWrongElement.BAD,
    )
    assert entry.autograd == pytest.approx(1.01 * entry.numeric, rel=1e-9)
    assert 0 < check.localisation_evaluations < 100
    assert gradx.check(torch.exp, x).ok


def test_full_and_projection_methods_agree():
    x = x64(0.5, -0.25, 1.5, 0.75)
    for method in ("full", "projections"):
        assert gradx.check(torch.tanh, x, method=method).ok
        report = gradx.check(SignError, x, method=method)
        assert report.verdict is Verdict.FAIL
        assert report.targets[0].checks[0].cause.id == "sign"


def test_without_inputs_random_vectors_are_drawn():
    def f(a, b, scale=2.0):
        return scale * a * torch.sin(b)

    report = gradx.check(f, samples=2, seed=3)
    assert report.ok
    checks = report.targets[0].checks
    assert [c.sample for c in checks] == [0, 1]
    assert [(i.name, i.shape) for i in checks[0].inputs] == [("a", (5,)), ("b", (5,))]
    assert checks[0].at != checks[1].at


def test_keyword_tensors_and_order_2():
    def f(x, *, weight):
        return torch.sin(weight * x)

    report = gradx.check(f, x64(0.5, 1.0), kwargs={"weight": x64(1.5, -0.5)}, order=2)
    assert report.ok
    first, second = report.targets[0].checks
    assert [i.name for i in first.inputs] == ["x", "weight"]
    assert second.order == 2 and [i.name for i in second.inputs] == ["x", "weight", "grad_output"]


CALLS = itertools.count(1)  # global state: every call returns something else


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")
@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda x: float(x.sum()), "the function returns float, not a tensor"),
        (lambda x: x * next(CALLS), "different values for the same input"),
        (lambda x: torch.log(x - 5), "nan or inf at the inputs"),
        (lambda x: (x > 0).long(), "only floating-point and complex outputs have gradients"),
    ],
)
def test_unusable_functions_are_errors_with_a_reason(fn, message):
    report = gradx.check(fn, x64(0.5, 1.5))
    target = report.targets[0]
    assert target.verdict is Verdict.ERROR
    assert message in target.error.message


def test_errors_point_at_the_users_line():
    def broken(x):
        return x @ torch.ones(3, 3, dtype=torch.float64)  # wrong shapes

    target = gradx.check(broken, x64(1.0, 2.0)).targets[0]
    assert target.verdict is Verdict.ERROR and target.error.type == "RuntimeError"
    assert target.error.location.startswith("test_check_api.py:")
    assert "wrong shapes" in target.error.source


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        gradx.check(torch.sin, x64(1.0), order=3)
    with pytest.raises(
        ValueError, match="'fast' is not one of 'auto', 'full', 'directions', 'projections'"
    ):
        gradx.check(torch.sin, x64(1.0), method="fast")
