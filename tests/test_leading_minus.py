"""An expression that starts with '-' is the expression, wherever it stands among the options."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.cli_args import expression_last

FORMS = [
    (["-x^2 + 3*x", "--at", "2"], "-x^2 + 3*x", "-1"),
    (["--at", "2", "-log(x)"], "-log(x)", "-0.5"),
    (["--", "-x^2", "--at", "2"], "-x^2", "-4"),
    (["--at", "x=-1", "-x*exp(-x)"], "-x*exp(-x)", "-5.43656"),
    (["-x^2", "--range", "-3:3", "--steps", "3"], "-x^2", "3 points: 3 ok"),
]


@pytest.mark.parametrize(("args", "expression", "shown"), FORMS)
def test_leading_minus_through_the_cli(run_cli, args, expression, shown):
    result = run_cli("eval", *args)
    assert result.exit_code == 0, result.output
    assert f"f = {expression}" in result.stdout or expression in result.stdout
    assert shown in result.stdout


def _gradx() -> list[str]:
    found = shutil.which("gradx")
    if found:
        return [found]
    return [sys.executable, "-c", "from gradx.cli import main; main()"]


@pytest.mark.parametrize(("args", "expression", "shown"), FORMS[:3])
def test_leading_minus_through_the_real_command(args, expression, shown):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "COLUMNS": "120"}
    done = subprocess.run(
        [*_gradx(), "eval", *args, "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f'"expression": "{expression}"' in done.stdout
    assert shown in done.stdout


def test_graph_takes_a_leading_minus_expression(run_cli):
    result = run_cli("graph", "-x*x", "--at", "x=3")
    assert result.exit_code == 0, result.output
    assert "= -9 " in result.stdout  # -(3*3): the minus was part of the expression


def test_negative_option_values_and_unknown_options_are_untouched(run_cli):
    assert expression_last(["x", "--at", "x=-1"], set(), {"--at"}) == ["x", "--at", "x=-1"]
    assert expression_last(["--range", "-3:3", "x"], set(), {"--range"}) == ["--range", "-3:3", "x"]
    result = run_cli("eval", "-x", "--bogus")
    assert result.exit_code == 2
    assert result.output == "error: no such option: --bogus (see gradx eval --help)\n"
    result = run_cli("eval", "-x", "-y", "--at", "x=1,y=2")
    assert result.exit_code == 2  # two expressions: one too many, said by click


_TOKENS = st.sampled_from(
    ["--at", "x=-1", "-3:3", "--range", "--json", "-x^2", "-log(x)", "--", "-", "-h", "--bogus",
     "x", "-(", "--at=-2", "-1", "sin(x)", "-x*exp(-x)", "--plot", ""]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=8))
def test_any_argv_is_rearranged_without_losing_or_inventing_arguments(args):
    out = expression_last(args, {"--json", "--plot", "--help"}, {"--at", "--range"})
    assert sorted(t for t in out if t != "--") == sorted(t for t in args if t != "--")
    if "--" in out:
        tail = out[out.index("--") + 1 :]
        # only what follows a -- in the input or parses as a leading-minus expression moves
        assert all(t in args for t in tail)
    # what stays in front keeps its order
    kept = out[: out.index("--")] if "--" in out else out
    rest = iter(args)
    assert all(any(t == u for u in rest) for t in kept)
