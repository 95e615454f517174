"""The scripts under tests/check_scripts/, checked in this process target by target.

Each case asserts what a user reads in the report: the verdict, the named cause, and where the
wrong entries are. (The same scripts go through the worker process in test_check_cli.py.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gradx.commands.check.model import Settings, TargetResult, Verdict
from gradx.commands.check.session import check_target
from gradx.user_script.spec import InputSpec, input_spec
from gradx.user_script.targets import discover, find_targets, load_module

SCRIPTS = Path(__file__).parent / "check_scripts"


@cache
def results(script: str, order: int = 1, method: str = "auto") -> dict[str, TargetResult]:
    """Every target of a script, checked once per test session."""
    found = find_targets(load_module(SCRIPTS / script))
    settings = Settings(order=order, method=method)
    return {t.name: check_target(t, InputSpec(), settings) for t in found.targets}


def first_check(result: TargetResult, order: int = 1):
    return next(c for c in result.checks if c.order == order)


def test_discovery_lists_file_targets_in_order_and_skips_the_rest():
    found = find_targets(load_module(SCRIPTS / "correct.py"))
    assert [t.name for t in found.targets] == [
        "square", "poly", "softmax", "branchy", "branchless", "Cube", "MulSquare", "TinyMLP",
        "smooth",
    ]  # fmt: skip
    assert dict(found.skipped) == {"NeedsSize": "its constructor needs arguments (n)"}
    kinds = {t.name: t.kind for t in found.targets}
    assert kinds["Cube"] == "autograd.Function"
    assert kinds["TinyMLP"] == "nn.Module"
    assert kinds["square"] == "function"
    assert [t.name for t in discover(SCRIPTS / "correct.py")] == [t.name for t in found.targets]


@pytest.mark.parametrize(
    "name",
    [
        "square",
        "poly",
        "softmax",
        "branchy",
        "branchless",
        "Cube",
        "MulSquare",
        "TinyMLP",
        "smooth",
    ],
)
def test_correct_targets_pass(name):
    result = results("correct.py")[name]
    assert result.verdict is Verdict.PASS, result
    check = first_check(result)
    assert check.mismatch_count == 0
    assert check.method == "full jacobian"
    assert check.worst is not None and check.worst.abs_error <= check.worst.tolerance


def test_non_tensor_defaults_are_kept_and_vector_outputs_need_no_sum():
    poly = first_check(results("correct.py")["poly"])
    assert [i.name for i in poly.inputs] == ["x", "y"]  # power=3 is kept, not differentiated
    softmax = first_check(results("correct.py")["softmax"])
    assert softmax.output_shape == (4,)
    assert softmax.entries_checked == 16  # every output against every input


def test_module_is_checked_against_its_input_and_every_parameter():
    check = first_check(results("correct.py")["TinyMLP"])
    names = [(i.name, i.kind, i.shape) for i in check.inputs]
    assert names == [
        ("x", "input", (3,)),
        ("hidden.weight", "parameter", (4, 3)),
        ("hidden.bias", "parameter", (4,)),
        ("out.weight", "parameter", (2, 4)),
        ("out.bias", "parameter", (2,)),
    ]
    assert check.entries_checked == 2 * (3 + 12 + 4 + 8 + 2)


def test_control_flow_falls_back_to_a_loop_with_the_same_verdict_and_numbers():
    looped = first_check(results("correct.py")["branchy"])
    vectorised = first_check(results("correct.py")["branchless"])
    assert not looped.vectorised
    assert "control flow" in str(looped.fallback_reason)
    assert vectorised.vectorised and vectorised.fallback_reason is None
    assert looped.verdict is vectorised.verdict is Verdict.PASS
    assert looped.worst.numeric == pytest.approx(vectorised.worst.numeric, rel=1e-9, abs=1e-12)
    buggy = first_check(results("detach_bugs.py")["branchy_detached"])
    assert not buggy.vectorised
    assert buggy.verdict is Verdict.FAIL and buggy.cause.id == "cut"


@pytest.mark.parametrize("method", ["auto", "directions", "projections"])
@pytest.mark.parametrize(
    ("script", "name", "cause", "words"),
    [
        ("wrong_functions.py", "SignError", "sign", "sign error"),
        ("wrong_functions.py", "MissingFactor", "factor", "autograd = 0.333333 × numeric"),
        ("wrong_functions.py", "Transposed", "transposed", "transposed Jacobian for x"),
        ("wrong_functions.py", "IgnoresGradOutput", "ignores-grad-output", "ignores grad_output"),
        ("wrong_functions.py", "Swapped", "swapped", "gradients swapped"),
        ("detach_bugs.py", "data_bug", "cut", "graph cut by .data at detach_bugs.py:8"),
        ("detach_bugs.py", "detach_bug", "cut", ".detach() at detach_bugs.py:12 (return"),
        ("detach_bugs.py", "half_detached", "cut", "depends on x through it"),
        ("detach_bugs.py", "DataParameter", "cut", ".data at detach_bugs.py:41"),
        ("nan_grad.py", "masked_sqrt", "nan", "NaN gradient where the function is finite"),
    ],
)
def test_each_bug_fails_with_its_cause(script, name, cause, words, method):
    # The same cause whether every entry is compared or the wrong ones are found by bisection.
    result = results(script, method=method)[name]
    assert result.verdict is Verdict.FAIL
    check = first_check(result)
    assert check.cause is not None and check.cause.id == cause
    assert words in str(check.cause.text)
    assert check.mismatches and all(
        e.abs_error > max(e.tolerance, 2 * e.numeric_error) or e.abs_error != e.abs_error
        for e in check.mismatches
    )


@pytest.mark.parametrize("method", ["auto", "directions", "projections"])
def test_the_wrong_entries_are_the_ones_reported(method):
    one_bad = first_check(results("wrong_functions.py", method=method)["OneBadElement"])
    assert one_bad.mismatch_count == 1 and one_bad.cause is None
    entry = one_bad.mismatches[0]
    assert (entry.output, entry.output_index, entry.input, entry.input_index) == (
        "out", (3,), "x", (3,),
    )  # fmt: skip
    assert entry.autograd == pytest.approx(1.5 * entry.numeric, rel=1e-9)
    transposed = first_check(results("wrong_functions.py", method=method)["Transposed"])
    assert {e.input for e in transposed.mismatches} == {"x"}  # w's gradient is right
    assert transposed.mismatch_count == 6  # the off-diagonal entries of a 3×3 W
    nan = first_check(results("nan_grad.py", method=method)["masked_sqrt"])
    assert {e.input_index for e in nan.mismatches} == {(1,)}  # x[1] = -0.5
    assert all(e.autograd != e.autograd for e in nan.mismatches)
    data = first_check(results("detach_bugs.py", method=method)["DataParameter"])
    assert {e.input for e in data.mismatches} == {"weight"}  # bias is fine
    assert all(e.autograd == 0 for e in data.mismatches)


def test_ignored_grad_output_is_named_with_the_wrong_entries():
    check = first_check(results("wrong_functions.py")["IgnoresGradOutput"])
    assert check.cause.id == "ignores-grad-output"
    assert check.mismatch_count == 20  # the off-diagonal entries of a 5-element sin
    assert any("grad_output" in str(note) for note in check.notes)


def test_second_order_is_checked_and_labelled_separately():
    result = results("second_order.py", order=2)["DetachedBackward"]
    first, second = first_check(result, 1), first_check(result, 2)
    assert first.verdict is Verdict.PASS
    assert second.verdict is Verdict.FAIL
    assert second.cause.id == "missing" and "second derivative" in str(second.cause.text)
    assert [i.name for i in second.inputs] == ["x", "grad_output"]
    assert second.mismatches[0].output == "grad_x"
    wave = results("second_order.py", order=2)["wave"]
    assert [c.verdict for c in wave.checks] == [Verdict.PASS, Verdict.PASS]


def test_kinks_are_nondifferentiable_not_failures():
    found = find_targets(load_module(SCRIPTS / "kinks.py"))
    targets = {t.name: t for t in found.targets}
    relu = check_target(targets["relu"], input_spec((), ("x=0",)), Settings())
    assert relu.verdict is Verdict.NONDIFFERENTIABLE
    kink = first_check(relu).kinks[0]
    assert (kink.left, kink.right, kink.autograd) == (0.0, 1.0, 0.0)
    # |x - 1| at 1: autograd's 0 equals the central difference, yet no derivative exists.
    shifted = check_target(targets["shifted_abs"], input_spec((), ("x=1",)), Settings())
    assert shifted.verdict is Verdict.NONDIFFERENTIABLE
    assert first_check(shifted).kinks[0].left == pytest.approx(-1.0)
    # Random inputs stay away from kinks.
    assert check_target(targets["relu"], InputSpec(), Settings()).verdict is Verdict.PASS


def test_shapes_and_values_from_the_command_line_reach_the_inputs():
    found = find_targets(load_module(SCRIPTS / "correct.py"))
    square = next(t for t in found.targets if t.name == "square")
    result = check_target(square, input_spec(("x=2,3",), ()), Settings())
    assert first_check(result).inputs[0].shape == (2, 3)
    assert first_check(result).entries_checked == 36
    result = check_target(square, input_spec((), ("x=1.5,2.5",)), Settings())
    assert first_check(result).at == (("x", "[1.5, 2.5]"),)
    result = check_target(square, input_spec((), ("x=0.25",)), Settings(samples=3))
    assert len(result.checks) == 1  # fixed values: one draw is all there is


def test_samples_draw_different_inputs():
    found = find_targets(load_module(SCRIPTS / "correct.py"))
    square = next(t for t in found.targets if t.name == "square")
    result = check_target(square, InputSpec(), Settings(samples=3, seed=7))
    values = [c.at[0][1] for c in result.checks]
    assert len(set(values)) == 3
    for text in values:
        for number in text.strip("[]").split(", "):
            value = abs(float(number))
            assert 0.15 <= value % 1 <= 0.85  # away from 0 and from integers
