"""``gradx check`` through the command line: reports, JSON, isolation and every exit code.

Each run starts a worker process that imports torch, so the expensive runs are shared between
tests (``_run`` caches them) and time limits are short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradx.cli import app

SCRIPTS = Path(__file__).parent / "check_scripts"


@cache
def _run(*args: str):
    """One CLI run per argument list (the environment is the plain one of conftest.py)."""
    env = {"COLUMNS": "120", "TERM": "dumb", "NO_COLOR": None, "FORCE_COLOR": None}
    return CliRunner().invoke(app, ["check", *args], env=env)


def script(name: str) -> str:
    return str(SCRIPTS / name)


@pytest.mark.slow
def test_a_correct_file_passes_with_exit_0_and_main_block_not_run():
    result = _run(script("correct.py"))
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    for name in ("square", "poly", "softmax", "branchy", "Cube", "MulSquare", "TinyMLP"):
        assert f"PASS      {name}" in out
    assert "9 targets: 9 pass" in out
    assert "skipped NeedsSize: its constructor needs arguments (n)" in out
    assert "branchy: Python control flow on tensor values" in out
    assert "__main__" not in out + result.stderr  # the guarded block raised nothing


def test_a_wrong_file_exits_1_with_ranked_tables_and_causes():
    result = _run(script("wrong_functions.py"))
    assert result.exit_code == 1
    out = result.stdout
    assert "6 targets: 6 fail" in out
    assert (
        "FAIL SignError (autograd.Function, line 6) — first derivatives: 5 of 25 entries wrong"
        in out
    )
    assert "cause: sign error: autograd ≈ −numeric" in out
    assert "cause: constant factor: autograd = 0.333333 × numeric" in out
    assert "cause: transposed Jacobian for x" in out
    assert "cause: backward ignores grad_output" in out
    assert "cause: gradients swapped" in out
    header = "output   input   autograd   numeric   abs error   rel error   tolerance"
    assert " ".join(header.split()) in " ".join(out.split())
    one_bad = out[out.index("FAIL OneBadElement") :]
    assert "1 of 64 entries wrong" in one_bad
    row = next(line for line in one_bad.splitlines() if line.strip().startswith("out[3]"))
    assert row.split()[:2] == ["out[3]", "x[3]"]


@pytest.mark.slow
def test_hang_crash_and_raise_are_isolated_and_the_rest_is_still_checked():
    result = _run(script("isolation.py"), "--timeout", "10", "--json")
    assert result.exit_code == 1
    targets = {t["name"]: t for t in json.loads(result.stdout)["targets"]}
    assert list(targets) == ["before", "d2l_loop", "segfault", "raises", "in_place", "after"]
    assert targets["before"]["verdict"] == "pass"
    assert targets["after"]["verdict"] == "pass"
    assert targets["d2l_loop"]["verdict"] == "timeout" and targets["d2l_loop"]["timeout"] == 10
    assert targets["d2l_loop"]["checks"] == [] and targets["d2l_loop"]["error"] is None
    assert targets["segfault"]["verdict"] == "error"
    assert "segmentation fault" in targets["segfault"]["error"]["message"]
    raised = targets["raises"]["error"]
    assert raised["type"] == "RuntimeError"
    assert raised["message"].startswith("mat1 and mat2 shapes cannot be multiplied")
    assert raised["location"] == "isolation.py:36"
    assert raised["source"].startswith("return torch.mm(scale, x.reshape(1, 1))")
    in_place = targets["in_place"]["error"]
    assert "modified by an inplace operation" in in_place["message"]
    # Raised in backward: the forward line comes from an anomaly-mode rerun.
    assert in_place["in_backward"] is True
    assert (in_place["location"], in_place["source"]) == ("isolation.py:40", "y = torch.exp(x)")
    assert in_place["title"] and in_place["fix"]  # explained by gradx explain-error's catalog


@pytest.mark.slow
def test_one_target_by_name_and_nondifferentiable_exits_0():
    result = _run(script("kinks.py") + "::relu", "--at", "x=0")
    assert result.exit_code == 0, result.stdout
    assert "NONDIFF   relu" in result.stdout
    assert "1 target: 1 nondifferentiable" in result.stdout
    assert "shifted_abs" not in result.stdout


@pytest.mark.slow
def test_order_2_and_samples_label_each_check():
    result = _run(script("second_order.py"), "--order", "2", "--samples", "2", "--seed", "5")
    assert result.exit_code == 1
    out = result.stdout
    assert "float64, seed 5, 2 samples, orders 1 and 2, rtol 1e-06, atol 1e-08" in out
    for sample in (1, 2):
        assert (
            "FAIL DetachedBackward (autograd.Function, line 6) — second derivatives (double "
            f"backward), sample {sample}: 5 of 50 entries"
        ) in out
    assert "cause: missing second derivative for x" in out
    assert "PASS      wave" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_file.py"], "error: no such file: no_such_file.py"),
        ([str(SCRIPTS)], "is a folder"),
        (
            [script("import_error.py")],
            "error: importing import_error.py failed: ModuleNotFoundError: No module named "
            "'gradx_no_such_module_xyz' (import_error.py:3)",
        ),
        ([script("no_targets.py")], "error: no targets in no_targets.py"),
        (
            [script("correct.py") + "::nope"],
            "error: no target named 'nope' in correct.py; targets found: square, poly, softmax",
        ),
        (
            [script("correct.py") + "::NeedsSize"],
            "error: NeedsSize in correct.py cannot be checked: its constructor needs arguments (n)",
        ),
        ([script("correct.py") + "::"], "error: nothing after '::'"),
        ([script("kinks.py"), "--order", "3"], "error: --order 3: gradx check checks order 1 or 2"),
        ([script("kinks.py"), "--samples", "0"], "error: --samples 0: give at least 1"),
        ([script("kinks.py"), "--timeout", "0"], "error: --timeout 0: give a positive number"),
        (
            [script("kinks.py"), "--dtype", "float16"],
            "error: --dtype float16: finite differences are noise in float16; compare with a "
            "reference implementation instead (--against FILE::NAME)",
        ),
        ([script("kinks.py"), "--shape", "x=a"], "error: --shape 'x=a': expected sizes"),
        (
            [script("kinks.py"), "--at", "x=one"],
            "error: --at 'x=one': the value 'one' must be a number or a constant expression",
        ),
        ([script("kinks.py"), "--at", "x=nan"], "error: --at 'x=nan': 'nan' is not a finite"),
        (
            [script("kinks.py"), "--at", "x=[[1,2],[3]]"],
            "error: --at 'x=[[1,2],[3]]': ragged list '[[1,2],[3]]'",
        ),
        ([script("kinks.py"), "--at", "x=[1,2"], "error: --at 'x=[1,2': the '[' at character 3"),
        ([script("kinks.py"), "--at", "x=1", "--at", "x=2"], "error: --at gives x twice"),
        (
            [script("kinks.py"), "--at", "x=[[1,2],[3,4]]", "--shape", "x=3"],
            "error: --at x is 2×2 (4 values) but --shape says 3",
        ),
        (
            [script("kinks.py"), "--shape", "y=3"],
            "error: no target in kinks.py has a parameter named y (parameters: x)",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_red_line(args, message):
    result = _run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_a_syntax_error_exits_2_before_any_worker_starts(tmp_path):
    # Written here rather than kept under check_scripts/: ruff must be able to parse the repo.
    broken = tmp_path / "syntax_error.py"
    broken.write_text("import torch\n\n\ndef f(x)\n    return x * 2\n")
    result = _run(str(broken))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: syntax error in syntax_error.py:4: expected ':'",
        "  def f(x)",
        "          ^",
    ]
    assert result.stdout == ""


@pytest.mark.slow
def test_the_parent_process_never_imports_torch():
    code = (
        "import sys\n"
        "from gradx.commands.check.command import CheckRequest\n"
        f"report = CheckRequest.from_cli(target={script('nan_grad.py')!r}).run()\n"
        "print(report.verdict.value, 'torch' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.stdout.split() == ["fail", "False"], done.stderr


def test_help_lists_the_options(run_cli):
    result = run_cli("check", "--help")
    assert result.exit_code == 0
    for option in ("--shape", "--at", "--samples", "--seed", "--order", "--timeout", "--json"):
        assert option in result.stdout
