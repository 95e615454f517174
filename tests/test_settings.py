"""One home for the numeric settings: the dtype and method choices, the tolerance table, the merge."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import gradx
from gradx.commands.check.command import CheckRequest
from gradx.commands.eval.pipeline import EvalRequest
from gradx.commands.graph.sources import expression_graph
from gradx.errors import ExitCode, GradxError
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import (
    CHECK_TOLERANCES,
    TOLERANCES,
    check_tolerance_for,
    tolerance_for,
)

CHECK_SCRIPTS = Path(__file__).parent / "check_scripts"
BAD_DTYPE = "'int8' is not one of 'float64', 'float32', 'float16', 'bfloat16'"


@pytest.mark.parametrize("command", ["eval", "check", "graph"])
def test_help_lists_the_dtype_choices(run_cli, command):
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    assert "float64|float32|float16|bfloat16" in result.stdout


def test_check_help_lists_the_methods(run_cli):
    assert "auto|full|directions|projections" in run_cli("check", "--help").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "x", "--at", "1"),
        ("check", str(CHECK_SCRIPTS / "kinks.py")),
        ("graph", "2*x*x"),
    ],
)
def test_a_bad_dtype_on_the_command_line_exits_2_with_the_shared_message(run_cli, args):
    result = run_cli(*args, "--dtype", "int8")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert BAD_DTYPE in result.stderr
    assert "Traceback" not in result.stderr


def test_every_core_entry_point_refuses_a_bad_dtype_with_the_same_message():
    messages = []
    for call in (
        lambda: EvalRequest.from_cli(expression="x", at=("1",), dtype="int8"),
        lambda: CheckRequest.from_cli(target=str(CHECK_SCRIPTS / "kinks.py"), dtype="int8"),
        lambda: expression_graph("2*x*x", (), "int8"),
    ):
        with pytest.raises(GradxError) as caught:
            call()
        assert caught.value.exit_code is ExitCode.USAGE
        messages.append(caught.value.message)
    assert set(messages) == {f"Invalid value for '--dtype': {BAD_DTYPE}."}
    with pytest.raises(ValueError, match=f"Invalid value for 'dtype': {BAD_DTYPE}"):
        gradx.check(torch.sin, torch.ones(2, dtype=torch.float64), dtype="int8")
    with pytest.raises(ValueError, match="'torch.int8' is not one of 'float64', 'float32'"):
        gradx.check(torch.sin, torch.ones(2, dtype=torch.float64), dtype=torch.int8)


def test_low_precision_is_refused_where_finite_differences_are_noise(run_cli):
    noise = "finite differences are noise in float16"
    for args in (("eval", "x", "--at", "1"), ("check", str(CHECK_SCRIPTS / "kinks.py"))):
        result = run_cli(*args, "--dtype", "float16")
        assert result.exit_code == 2
        assert noise in result.stderr and "\n" not in result.stderr.strip()
    with pytest.raises(ValueError, match=noise):
        gradx.check(torch.sin, torch.ones(2, dtype=torch.float64), dtype=torch.float16)


def test_the_table_has_a_row_for_every_dtype_and_nothing_else():
    assert set(TOLERANCES) == {d for d in DType if d.finite_differences}
    for row in TOLERANCES.values():
        # check has no symbolic reference: its one bar is against the finite differences
        assert (row.check.fd_rtol, row.check.fd_atol) == (row.check.rtol, row.check.atol)
        assert row.eval.rtol < row.check.rtol  # eval's symbolic reference allows a tighter bar
    assert CHECK_TOLERANCES == {
        "float64": (TOLERANCES[DType.FLOAT64].check.rtol, TOLERANCES[DType.FLOAT64].check.atol),
        "float32": (TOLERANCES[DType.FLOAT32].check.rtol, TOLERANCES[DType.FLOAT32].check.atol),
    }


def test_the_merge_applies_rtol_and_atol_to_both_references():
    default = TOLERANCES[DType.FLOAT64].eval
    assert tolerance_for("float64") == default
    tight = tolerance_for("float64", rtol=1e-12, atol=0.0)
    assert (tight.rtol, tight.atol) == (1e-12, 0.0)
    assert tight.fd_rtol == default.fd_rtol  # finite differences cannot do better than that
    assert tight.fd_atol == 0.0  # ...unless exactly zero is asked for
    loose = tolerance_for("float32", rtol=0.5)
    assert (loose.rtol, loose.fd_rtol) == (0.5, 0.5)


def test_check_cli_and_api_read_the_same_row():
    row = TOLERANCES[DType.FLOAT32].check
    request = CheckRequest.from_cli(target=str(CHECK_SCRIPTS / "kinks.py"), dtype="float32")
    assert (request.settings.rtol, request.settings.atol) == (row.rtol, row.atol)
    report = gradx.check(torch.sin, torch.ones(2, dtype=torch.float32))
    assert report.settings.dtype == "float32"
    assert (report.settings.rtol, report.settings.atol) == (row.rtol, row.atol)
    merged = check_tolerance_for("float64", atol=0.5)
    assert (merged.rtol, merged.atol) == (TOLERANCES[DType.FLOAT64].check.rtol, 0.5)


@pytest.mark.parametrize("method", list(Method))
def test_every_method_name_reaches_the_engine(method):
    big = torch.linspace(-1, 1, 20_001, dtype=torch.float64)  # over the full-Jacobian limit
    small = torch.linspace(-1, 1, 5, dtype=torch.float64)
    for x in (small, big) if method is not Method.FULL else (small,):
        check = gradx.check(torch.sin, x, method=method).targets[0].checks[0]
        dense = method is Method.FULL or (method is Method.AUTO and x is small)
        if method is Method.DIRECTIONS:
            assert check.method == "random directions"
        else:
            assert check.method == ("full jacobian" if dense else "random projections")
