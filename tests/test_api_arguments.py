"""The Python API refuses unusable arguments before any work (issue 12, items 16 and 17)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradx
from gradx.commands.explain.paste import MAX_INPUT_BYTES


class Recorder:
    """A function to check that remembers whether it was ever called."""

    def __init__(self) -> None:
        self.calls = 0
        self.__name__ = "recorder"

    def __call__(self, x):
        self.calls += 1
        return x * 2


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"rtol": "a"}, TypeError, "rtol must be a number"),
        ({"rtol": -1}, ValueError, "rtol must be a finite number >= 0"),
        ({"rtol": math.nan}, ValueError, "rtol must be a finite number >= 0"),
        ({"atol": math.inf}, ValueError, "atol must be a finite number >= 0"),
        ({"seed": "x"}, TypeError, "seed must be an int"),
        ({"seed": 2**70}, ValueError, "seed must be between 0 and 2**63 - 1"),
        ({"kwargs": [1, 2]}, TypeError, "kwargs must be a dict"),
        ({"name": 5}, TypeError, "name must be a str or None"),
        ({"samples": 2.5}, TypeError, "samples must be an int"),
        ({"samples": 0}, ValueError, "samples must be at least 1"),
        ({"order": 3}, ValueError, "order must be 1 or 2"),
        ({"method": 1}, TypeError, "method must be a str"),
        ({"dtype": 5}, TypeError, "dtype must be a str or a torch.dtype"),
    ],
)
def test_check_refuses_bad_arguments_before_calling_fn(options, error, words):
    fn = Recorder()
    with pytest.raises(error, match=words.replace("*", r"\*")):
        gradx.check(fn, **options)
    assert fn.calls == 0
    with pytest.raises(error):
        gradx.assert_gradients(fn, torch.ones(2, dtype=torch.float64), **options)
    assert fn.calls == 0


@settings(deadline=None, max_examples=40)
@given(st.one_of(st.floats(allow_nan=True), st.text(max_size=5), st.none(), st.booleans()))
def test_any_rtol_is_used_or_refused_cleanly(rtol):
    fn = Recorder()
    try:
        report = gradx.check(fn, torch.tensor(1.0, dtype=torch.float64), rtol=rtol)
    except (TypeError, ValueError):
        assert fn.calls == 0
        return
    assert isinstance(rtol, float) or rtol is None
    assert report.ok  # 2*x is right whatever the tolerance
    str(report)


@settings(deadline=None, max_examples=40)
@given(st.one_of(st.integers(), st.floats(), st.text(max_size=3)))
def test_any_seed_is_used_or_refused_cleanly(seed):
    fn = Recorder()
    try:
        gradx.check(fn, seed=seed)
    except (TypeError, ValueError):
        assert fn.calls == 0
        return
    assert isinstance(seed, int) and 0 <= seed < 2**63


def test_assert_gradients_names_an_error_as_an_error():
    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(AssertionError) as caught:
        gradx.assert_gradients(broken, torch.ones(2, dtype=torch.float64))
    first = str(caught.value).splitlines()[0]
    assert "could not finish" in first and "do not match" not in first


def test_assert_gradients_still_says_mismatch_for_a_wrong_gradient():
    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    with pytest.raises(AssertionError, match="gradients do not match"):
        gradx.assert_gradients(Wrong, torch.ones(2, dtype=torch.float64))


@pytest.mark.parametrize(
    ("lang", "error"), [(5, TypeError), ("xx", ValueError), (b"en", TypeError)]
)
def test_explain_and_install_refuse_a_bad_language(lang, error):
    with pytest.raises(error, match="lang must be"):
        gradx.explain("x", lang=lang)
    with pytest.raises(error, match="lang must be"):
        gradx.install(lang=lang)


def test_explain_keeps_the_last_4_mib_of_a_long_text():
    error = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
    text = "noise line\n" * (MAX_INPUT_BYTES // 5) + error
    assert len(text) > MAX_INPUT_BYTES
    explanation = gradx.explain(text)
    assert explanation.recognised
    assert "input-truncated" in explanation.notes


def test_explain_of_a_short_text_is_not_truncated():
    explanation = gradx.explain("element 0 of tensors does not require grad")
    assert "input-truncated" not in explanation.notes
