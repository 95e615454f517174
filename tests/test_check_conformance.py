"""gradx check on the kinds of functions torch's own OpInfo suite holds (issue 8).

Any number of outputs of any float dtype, complex inputs and outputs, empty tensors, random
operations, fine structure (sort of close values), non-finite inputs, jumps, multi-element
default inputs and the PASS invariant of the report type. Each case asserts what a user reads.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import gradx
from gradx.commands.check.model import GradCheck, InputInfo, JacobianEntry, Verdict


def x64(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def only_check(report) -> GradCheck:
    (target,) = report.targets
    assert target.error is None, target.error
    return target.checks[0]


def scaled_backward(factor: float, *, conj: bool = False):
    """An autograd.Function: forward x * 2, backward g * 2 * factor (wrong unless factor 1)."""

    class Doubling(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 * factor

    return Doubling.apply


# ------------------------------------------------------------------------ outputs


def test_three_outputs_and_an_integer_output_are_checked_and_noted():
    x = x64(0.5, -1.25, 2.0, 0.75, -0.3)
    check = only_check(gradx.check(lambda x: (x.sin(), x.cos(), x * 2, x.argmax()), x))
    assert check.verdict is Verdict.PASS
    assert check.entries_checked == 3 * 5 * 5
    assert any("out[3] (int64) is not differentiable: not compared" in str(n) for n in check.notes)


def test_a_wrong_third_output_fails_and_is_named():
    bad = scaled_backward(1.5)
    x = x64(0.5, -1.25, 2.0)
    report = gradx.check(lambda x: (x.sin(), x.cos(), bad(x)), x)
    check = only_check(report)
    assert check.verdict is Verdict.FAIL
    assert {e.output for e in check.mismatches} == {"out[2]"}
    assert check.cause is not None and check.cause.id == "factor"


def test_float16_output_with_a_right_gradient_passes_with_a_precision_note():
    check = only_check(gradx.check(lambda x: (x * 2).to(torch.float16), x64(0.5, -1.25, 2.0)))
    assert check.verdict is Verdict.PASS
    assert any("float16" in str(note) and "precision" in str(note) for note in check.notes)


def test_float16_output_with_a_wrong_gradient_fails_with_the_factor_not_grad_output():
    bad = scaled_backward(1.5)
    check = only_check(gradx.check(lambda x: bad(x).to(torch.float16), x64(0.5, -1.25, 2.0)))
    assert check.verdict is Verdict.FAIL
    assert check.cause.id == "factor"


def test_a_complex_element_of_a_tuple_output_is_not_dropped():
    bad = scaled_backward(1.5)
    report = gradx.check(lambda x: (2 * x, bad(x).to(torch.complex128)), x64(0.5, -1.25))
    check = only_check(report)
    assert check.verdict is Verdict.FAIL
    assert {e.output for e in check.mismatches} == {"out[1].real"}


# ------------------------------------------------------------------------ complex


def test_complex_inputs_and_outputs_pass_when_right():
    z = torch.tensor([[0.5 - 1.0j, 1.25 + 0.25j, -0.75j], [2.0, -1.5 + 0.5j, 0.3 + 0.3j]])
    check = only_check(gradx.check(lambda z: z * z.conj() + torch.sin(z), z))
    assert check.verdict is Verdict.PASS
    assert check.entries_checked == 12 * 12  # real and imaginary parts of 6 in, 6 out


def test_complex_function_of_real_input_passes():
    check = only_check(gradx.check(lambda x: torch.fft.fft(x), x64(0.5, -1.25, 2.0, 0.75)))
    assert check.verdict is Verdict.PASS


def test_a_complex_backward_without_its_conjugate_fails_naming_real_and_imaginary_parts():
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, g):
            (z,) = ctx.saved_tensors
            return g * 2 * z  # should be g * (2 * z).conj()

    z = torch.tensor([0.5 - 1.0j, 1.25 + 0.25j], dtype=torch.complex128)
    check = only_check(gradx.check(Square, z))
    assert check.verdict is Verdict.FAIL
    parts = {(e.output.rsplit(".", 1)[-1], e.input.rsplit(".", 1)[-1]) for e in check.mismatches}
    assert parts <= {("real", "imag"), ("imag", "real"), ("real", "real"), ("imag", "imag")}
    assert any(e.input.endswith(".imag") for e in check.mismatches)


# ------------------------------------------------------------------------ empty, random


def test_an_empty_input_passes_with_no_entries_and_a_note():
    report = gradx.check(lambda x: x * 2, torch.zeros(0, 3, dtype=torch.float64))
    check = only_check(report)
    assert report.ok and check.verdict is Verdict.PASS
    assert check.entries_checked == 0
    assert any("empty" in str(note) and "nothing to compare" in str(note) for note in check.notes)


def test_an_empty_output_passes_with_a_note():
    check = only_check(gradx.check(lambda x: x[:0] * 2, x64(0.5, 1.5)))
    assert check.verdict is Verdict.PASS and check.entries_checked == 0


def test_random_operations_check_like_any_other_with_the_rng_restored():
    x = x64(0.5, -1.25, 2.0, 0.75, -0.3, 1.1)
    check = only_check(gradx.check(lambda x: F.dropout(x, 0.5, training=True) * x, x))
    assert check.verdict is Verdict.PASS
    assert any("random-number state is forked and restored" in str(n) for n in check.notes)


def test_a_wrong_backward_under_random_numbers_still_fails():
    bad = scaled_backward(-1.0)
    check = only_check(gradx.check(lambda x: bad(x) * torch.rand_like(x), x64(0.5, -1.25, 2.0)))
    assert check.verdict is Verdict.FAIL and check.cause.id == "sign"


def test_the_callers_random_state_is_left_as_it_was():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    gradx.check(lambda x: x * torch.rand_like(x), x64(0.5, -1.25, 2.0))
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------------ fine structure


class Sort(torch.autograd.Function):
    """torch.sort's values, with a backward that can be broken on purpose."""

    bug = "none"

    @staticmethod
    def forward(ctx, x):
        values, index = torch.sort(x)
        ctx.save_for_backward(index)
        return values

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        grad = torch.zeros_like(g).index_copy(0, index, g)
        if Sort.bug == "negated":
            grad = -grad
        elif Sort.bug == "one entry":
            grad[17] = grad[17] * 1.01
        return grad


@pytest.fixture
def close_values():
    # 8000 standard-normal values: neighbours after sorting are as close as ~1e-8.
    return torch.randn(8000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize(("bug", "verdict"), [("none", "pass"), ("negated", "fail"),
                                              ("one entry", "fail")])  # fmt: skip
def test_sort_of_close_values_passes_only_with_the_right_backward(close_values, bug, verdict):
    Sort.bug = bug
    try:
        report = gradx.check(Sort, close_values)
    finally:
        Sort.bug = "none"
    check = only_check(report)
    assert check.verdict.value == verdict
    if bug == "one entry":
        assert [e.input_index for e in check.mismatches] == [(17,)]


def test_plain_sort_of_close_values_passes(close_values):
    assert gradx.check(lambda x: torch.sort(x)[0], close_values).verdict is Verdict.PASS


def test_a_minus_infinity_input_is_not_perturbed():
    x = x64(0.5, float("-inf"), 2.0, 0.75, -0.3)
    check = only_check(gradx.check(lambda x: torch.softmax(x, 0), x))
    assert check.verdict is Verdict.PASS
    assert check.entries_checked == 4 * 5  # the -inf column is not checked
    assert any("x[1] = -inf: not finite, so not perturbed" in str(n) for n in check.notes)


def test_a_jump_is_called_a_jump_and_a_kink_a_kink():
    jump = only_check(gradx.check(lambda x: torch.floor(x) + x, x64(1.0, 2.5)))
    assert jump.verdict is Verdict.NONDIFFERENTIABLE
    assert [k.jump for k in jump.kinks] == [True]
    assert (jump.kinks[0].left, jump.kinks[0].right) == pytest.approx((1.0, 2.0), abs=1e-3)
    assert "the function jumps here" in str(gradx.check(lambda x: torch.floor(x) + x, x64(1.0)))
    kink = only_check(gradx.check(torch.relu, x64(0.0, 2.5)))
    assert [k.jump for k in kink.kinks] == [False]
    assert (kink.kinks[0].left, kink.kinks[0].right) == pytest.approx((0.0, 1.0), abs=1e-6)


# ------------------------------------------------------------------------ PASS invariant


def _entry(autograd: float, numeric: float, tolerance: float, numeric_error: float = 0.0):
    diff = abs(autograd - numeric)
    return JacobianEntry("out", (0,), "x", (0,), autograd, numeric, diff, diff / abs(numeric),
                         tolerance, numeric_error)  # fmt: skip


def _check(verdict: Verdict, worst: JacobianEntry, mismatches: int = 0) -> GradCheck:
    return GradCheck(order=1, sample=0, verdict=verdict, method="full jacobian",
                     inputs=(InputInfo("x", (1,), "input"),), output_shape=(1,),
                     entries_checked=1, mismatch_count=mismatches, worst=worst)  # fmt: skip


def test_a_pass_with_a_discrepancy_outside_its_tolerance_cannot_be_built():
    with pytest.raises(ValueError, match="outside its tolerance"):
        _check(Verdict.PASS, _entry(1.0, 1.8, 1e-6))
    with pytest.raises(ValueError, match="wrong entries"):
        _check(Verdict.PASS, _entry(1.0, 1.0, 1e-6), mismatches=1)
    # A large numeric error widens the tolerance only up to gradcheck's own bar (1e-3 rel).
    with pytest.raises(ValueError, match="outside its tolerance"):
        _check(Verdict.PASS, _entry(1.0, 1.01, 1e-6, numeric_error=0.5))
    assert _check(Verdict.PASS, _entry(1.0, 1.0 + 1e-7, 1e-6)).verdict is Verdict.PASS
    assert _check(Verdict.FAIL, _entry(1.0, 1.8, 1e-6), mismatches=1).verdict is Verdict.FAIL


# ------------------------------------------------------------------------ default inputs

RUNNING_SUM = """
import torch


class RunningSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.cumsum(x, 0)

    @staticmethod
    def backward(ctx, g):
        return torch.cumsum(g, 0)  # should be the reversed running sum


def scalar_only(x):
    if x > 0:  # Python control flow: only a one-element tensor works
        return x * x
    return -x
"""


def test_default_inputs_reveal_a_transposed_running_sum(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "running.py"
    path.write_text(RUNNING_SUM, encoding="utf-8")
    result = run_cli("check", str(path) + "::RunningSum")
    assert result.exit_code == 1
    assert "RunningSum   autograd.Function   x (5,)" in result.stdout
    assert "cause: transposed Jacobian for x" in result.stdout


def test_a_function_that_rejects_vectors_gets_a_scalar_with_a_note(run_cli, tmp_path):
    path = tmp_path / "running.py"
    path.write_text(RUNNING_SUM, encoding="utf-8")
    result = run_cli("check", str(path) + "::scalar_only", "--json")
    assert result.exit_code == 0
    import json

    (target,) = json.loads(result.stdout)["targets"]
    (check,) = target["checks"]
    assert check["inputs"][0]["shape"] == []
    assert any("rejects random inputs of shape (5,)" in n for n in check["notes"])


def test_the_api_without_inputs_draws_vectors_too():
    import types

    module = types.ModuleType("running")
    exec(compile(RUNNING_SUM, "running.py", "exec"), module.__dict__)  # noqa: S102 - test code
    check = only_check(gradx.check(module.RunningSum))
    assert check.inputs[0].shape == (5,)
    assert check.cause.id == "transposed"


# ------------------------------------------------------------------------ .detach() / .data


def test_a_detach_in_the_forward_is_named_with_its_line_not_a_constant_factor():
    def detached(x):
        y = x * x
        u = y.detach()
        z = u * x
        return z.sum()

    check = only_check(gradx.check(detached, x64(0.5, 1.0, 2.0, 3.0)))
    assert check.verdict is Verdict.FAIL
    assert check.cause.id == "cut"
    assert "graph cut by .detach() at test_check_conformance.py:" in str(check.cause.text)
    assert "(u = y.detach())" in str(check.cause.text)
    assert "constant factor" not in str(check.cause.text)


def test_a_vmap_batching_rule_that_differs_from_backward_is_not_trusted():
    # torch's batching rule of select_scatter's backward sums over the batch: autograd's
    # Jacobian built through vmap would say 5 where the plain backward (and the truth) say 1.
    x = torch.randn(5, 5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    src = torch.randn(5, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    report = gradx.check(lambda x, src: torch.select_scatter(x, src, 1, 2), x, src)
    assert report.verdict is Verdict.PASS


def test_near_a_pole_the_steps_shrink_instead_of_straddling_it():
    # tan 0.0062 away from its pole at -5π/2: the Richardson step (~0.03 at |x| ≈ 8) straddles
    # the pole; both one-sided estimates "agree" there only within their huge error bars.
    x = x64(-7.860201826806377, 0.5, 1.0)
    assert gradx.check(torch.tan, x).verdict is Verdict.PASS


def test_a_real_function_of_a_small_complex_input_is_checked():
    z = torch.tensor([0.5 - 1.0j, 1.25 + 0.25j], dtype=torch.complex128)
    for fn in (torch.view_as_real, torch.abs, lambda z: z.real * z.imag):
        assert gradx.check(fn, z).verdict is Verdict.PASS
