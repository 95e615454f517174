"""Any input gives an explanation or a clean error: never a traceback, never a hang.

The regexes are also checked statically (no nested unbounded repeats, in
test_explain_catalog.py); these properties feed the whole pipeline with random text, random
bytes and long repetitions of the fragments the patterns are built from, which is where
catastrophic backtracking would show up.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import gradx
from gradx.cli import app
from gradx.commands.explain.explainer import explain_text
from gradx.commands.explain.model import Explanation
from gradx.errors import GradxError

FRAGMENTS = [
    "RuntimeError: ",
    "UserWarning: ",
    "Function ",
    "MulBackward0 ",
    "returned an invalid gradient at index ",
    "0 - got [",
    "] but expected shape compatible with [",
    "], which is output ",
    " is at version ",
    "the derivative for '",
    "derivative for aten::",
    "vmap: It looks like you're ",
    "grad_and_value(f)(*args): Expected f(*args) to return a ",
    "invalid gradient at index 0 - expected device ",
    "'NoneType' object has no attribute '",
    "unsupported operand type(s) for ",
    "Error detected in X. Traceback of forward call that caused the error:",
    '  File "',
    '", line ',
    ", in ",
    "Traceback (most recent call last):",
    "hook '",
    ".grad",
    "'",
    "(",
    ")",
    "[",
    "]",
    ":",
    "1",
    " ",
    "\t",
    "\n",
    "> ",
    "[rank0]: ",
    "`",
    "```",
    "\x1b[31m",
    "\x00",
    "\ufffd",
    "中文",
]

fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join)


def explained_or_clean_error(text: str) -> None:
    try:
        result = explain_text(text, "en")
    except GradxError as error:
        assert int(error.exit_code) == 2 and error.message
        return
    assert isinstance(result, Explanation)
    assert result.recognised or result.advice


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_gives_a_result_or_a_clean_error(text: str):
    explained_or_clean_error(text)


@settings(max_examples=300, deadline=None)
@given(fragment_text)
def test_pattern_fragments_in_any_order(text: str):
    explained_or_clean_error(text)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(fragment_text.filter(bool), st.integers(min_value=100, max_value=3000))
def test_long_repetitions_do_not_backtrack(text: str, times: int):
    explained_or_clean_error(text * times)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=4000))
def test_any_bytes_on_stdin_end_with_exit_0_1_or_2_and_no_traceback(data: bytes):
    result = CliRunner().invoke(app, ["explain-error"], input=data)
    assert result.exit_code in (0, 1, 2)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ")


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=300), fragment_text))
def test_the_python_api_accepts_any_text(text: str):
    try:
        explanation = gradx.explain(text, lang="en")
    except GradxError:
        return
    text = str(explanation)  # what print(explanation) shows
    if explanation.recognised:
        assert text.startswith(explanation.primary.kind)
        assert explanation.entry_id in text.splitlines()[0]
    else:
        assert "did not recognise an autograd error" in text
