"""Overflow, unreliable references and ``inconclusive`` through the real CLI, with exit codes;
the numeric column where there is no derivative; every status documented and rendered."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from gradx.commands.eval.model import EvalReport, EvalSummary, Marks, Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
from gradx.errors import ExitCode
from gradx.render.eval_plot_file import MARK_STYLE
from gradx.render.eval_plot_terminal import MARK_SYMBOLS
from gradx.render.eval_table import STATUS_STYLE

ROOT = Path(__file__).resolve().parents[1]


def _csv_rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _json(run_cli, *args):
    result = run_cli("eval", *args, "--json")
    return result, json.loads(result.stdout)


def test_overflow_of_f_is_domain_and_exits_0(run_cli):
    result = run_cli("eval", "x^2", "--at", "x=1e308")
    assert result.exit_code == 0, result.stdout
    assert "x^2 = 1e+308 ** 2 overflows to inf" in result.stdout
    assert "1 point: 0 ok, 0 nondifferentiable, 1 domain, 0 mismatch" in result.stdout


def test_aliasing_finite_differences_at_huge_x_do_not_count_as_disagreement(run_cli):
    result, doc = _json(run_cli, "sin(x)", "--range", "-1e308:1e308")
    assert result.exit_code == 0
    assert doc["summary"]["ok"] == 13 and doc["summary"]["mismatch"] == 0
    far = doc["points"][0]
    assert far["at"] == {"x": -1e308}
    assert far["autograd"]["x"] == far["symbolic"]["x"]
    assert "finite differences are unreliable here" in far["note"]
    assert "judged against symbolic alone" in far["note"]
    # the unreliable reference does not make an error either
    assert doc["summary"]["worst_error"] == 0


def test_nothing_to_compare_with_is_inconclusive_and_exits_3(run_cli):
    args = ("x^x^x^x", "--at", "x=1.5", "--order", "6")
    result = run_cli("eval", *args)
    assert result.exit_code == 1, result.stdout
    assert "inconclusive" in result.stdout
    assert "not checked: no symbolic value and finite differences are too uncertain" in (
        " ".join(result.stdout.split())
    )
    assert re.search(
        r"1 point: 0 ok, 0 nondifferentiable, 0 domain, 1 inconclusive, 0 mismatch", (result.stdout)
    )
    result, doc = _json(run_cli, *args)
    assert result.exit_code == 1
    (point,) = doc["points"]
    sixth = "x,x,x,x,x,x"
    assert point["status"] == "inconclusive"
    assert point["statuses"][sixth] == "inconclusive" and point["statuses"]["x"] == "ok"
    assert point["symbolic"][sixth] is None
    assert doc["summary"]["inconclusive"] == 1 and doc["summary"]["mismatch"] == 0


@pytest.mark.parametrize(
    ("mismatch", "inconclusive", "code"),
    [
        (0, 0, ExitCode.OK),
        (0, 2, ExitCode.FAILED),
        (1, 2, ExitCode.FAILED),
        (1, 0, ExitCode.FAILED),
    ],
)
def test_a_mismatch_outranks_inconclusive_for_the_exit_code(mismatch, inconclusive, code):
    summary = EvalSummary(
        points=5,
        ok=5 - mismatch - inconclusive,
        nondifferentiable=0,
        domain=0,
        mismatch=mismatch,
        inconclusive=inconclusive,
        worst_error=None,
        worst_at=None,
        worst_key=None,
    )
    header = evaluate_expression(EvalRequest("x", at=("x=1",))).header
    report = EvalReport(header, summary, (), 0)
    assert report.exit_code == code
    assert report.exit_ok == (mismatch == 0) and report.exit_complete == (inconclusive == 0)


def test_a_point_with_no_reference_at_all_is_inconclusive_not_domain(run_cli):
    # x = 0 is the edge of x^x's domain (NaN for x < 0), sympy's 6th derivative is skipped and
    # finite differences do not settle: autograd's NaN can be neither confirmed nor refuted.
    # (sqrt sits at 0, but sqrt(x^2) is |x|: that is no proof of an infinite derivative.)
    result = run_cli("eval", "x^x^x^x + sqrt(x^2)", "--at", "x=0", "--order", "6")
    assert result.exit_code == 1, result.stdout
    assert "whether the derivative exists here is unknown" in " ".join(result.stdout.split())


def test_the_summary_line_leaves_out_inconclusive_when_there_is_none(run_cli):
    result = run_cli("eval", "sin(x)", "--at", "x=1")
    assert "1 point: 1 ok, 0 nondifferentiable, 0 domain, 0 mismatch" in result.stdout
    assert "inconclusive" not in result.stdout


def test_inconclusive_is_a_column_of_the_csv(run_cli, tmp_path):
    out = tmp_path / "points.csv"
    result = run_cli("eval", "x^x^x^x", "--at", "x=1.5", "--order", "6", "--csv", str(out))
    assert result.exit_code == 1
    (row,) = _csv_rows(out)
    assert row["status"] == "inconclusive" and row["status[x,x,x,x,x,x]"] == "inconclusive"
    assert row["symbolic[x,x,x,x,x,x]"] == ""


@pytest.mark.parametrize(
    ("expression", "status"),
    [
        ("floor(x)", "nondifferentiable"),
        ("sign(x)", "nondifferentiable"),
        ("sqrt(x)", "domain"),
        ("1/x", "domain"),
    ],
)
def test_no_numeric_value_where_there_is_no_derivative(run_cli, tmp_path, expression, status):
    result = run_cli("eval", expression, "--at", "x=0")
    table_row = next(line for line in result.stdout.splitlines() if line.strip().startswith("0 "))
    cells = table_row.split()
    assert cells[-1] == status
    assert cells[-3:-1] == ["—", "—"]  # numeric and error
    result, doc = _json(run_cli, expression, "--at", "x=0")
    (point,) = doc["points"]
    assert point["numeric"] == {"x": None} and point["numeric_error"] == {"x": None}
    out = tmp_path / "p.csv"
    run_cli("eval", expression, "--at", "x=0", "--csv", str(out))
    (row,) = _csv_rows(out)
    assert row["numeric"] == "" and row["numeric_error"] == ""


def test_smooth_points_keep_their_numeric_value(run_cli):
    _, doc = _json(run_cli, "floor(x) + x^2", "--at", "x=0.5")
    assert doc["points"][0]["numeric"]["x"] == pytest.approx(1.0)


def test_every_status_is_documented_and_rendered():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "eval.md").read_text(encoding="utf-8")
    statuses = [s.value for s in Status]
    for status in statuses:
        assert f"| `{status}` |" in readme, status  # the README's status table
        assert f"**{status}**" in guide, status  # docs/eval.md's verdict list
        assert Status(status) in STATUS_STYLE
    schema = " | ".join(f'"{s}"' for s in statuses)
    assert f'"status": {schema},' in guide  # the JSON schema, in the order of alarm
    # three exit codes only: an inconclusive point exits 1, and both documents say so
    assert "| 3 | " not in readme and "\n| 3 | " not in guide
    assert "(`inconclusive`) is not a check that agrees: it exits 1" in " ".join(readme.split())
    assert "inconclusive (could not be checked: not shown to agree)" in guide


def test_every_plot_mark_has_a_symbol_and_a_style():
    kinds = {"kink", "mismatch", "inconclusive", "no derivative"}
    assert set(MARK_SYMBOLS) == kinds == set(MARK_STYLE)
    assert Marks("inconclusive", (0.0,), (1.0,)).kind in MARK_SYMBOLS


def test_a_derivative_too_large_for_float64_is_domain_and_says_so(run_cli):
    # f = log(1e-60) is finite; f⁽⁶⁾ = -120/x⁶ = -1.2e362 is not representable
    result, doc = _json(run_cli, "log(x)", "--at", "x=1e-60", "--order", "6")
    assert result.exit_code == 0
    (point,) = doc["points"]
    assert point["status"] == "domain"
    assert "too large for float64 (overflow)" in point["note"]
