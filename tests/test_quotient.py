"""``gradx eval EXPR --at X --quotient``: the limit of the difference quotient, step by step."""

from __future__ import annotations

import json

import pytest

from gradx.commands.eval.quotient import STEPS, difference_quotients


def test_the_d2l_exercise_forward_quotient_is_2_plus_3h():
    # f(x) = 3x² - 4x at 1: (f(1+h) - f(1))/h = 2 + 3h exactly, so the error is 3h until
    # rounding takes over; the central quotient of a quadratic has no truncation error at all.
    report = difference_quotients("3*x^2 - 4*x", ("1",))
    assert report.autograd == 2
    for row in report.rows[:5]:
        assert row.forward == pytest.approx(2 + 3 * row.h, rel=1e-9)
        assert row.forward_error == pytest.approx(3 * row.h, rel=1e-6)
        assert row.central_error < 1e-10
    best = report.rows[report.best_forward]
    assert 1e-9 <= best.h <= 1e-7  # sqrt(eps): where rounding overtakes truncation
    assert report.rows[-1].forward_error > 100 * best.forward_error  # rounding dominates at 1e-16
    assert report.theory_central is None  # f''' = 0: no truncation to balance


def test_float32_turns_much_earlier():
    f64 = difference_quotients("exp(x)", ("1",))
    f32 = difference_quotients("exp(x)", ("1",), dtype="float32")
    assert f32.rows[f32.best_forward].h > 100 * f64.rows[f64.best_forward].h
    assert f32.rows[f32.best_central].h > 10 * f64.rows[f64.best_central].h
    assert f64.theory_forward == pytest.approx(f64.rows[f64.best_forward].h, rel=10)


def test_cli_table_marks_the_turn_and_explains_it(run_cli):
    result = run_cli("eval", "3*x^2 - 4*x", "--at", "1", "--quotient")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "f = 3*x^2 - 4*x at x = 1 (float64)" in lines[0]
    assert any(line.startswith("1e-01") and "3.0e-01" in line for line in lines)
    marked = [line for line in lines if line.startswith("1e-") and "◀" in line]
    assert marked and any(line.startswith("1e-08") for line in marked)
    assert "rounding error" in result.stdout
    assert "Richardson" in result.stdout


def test_cli_json(run_cli):
    result = run_cli("eval", "sin(x)", "--at", "x=0.5", "--quotient", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [row["h"] for row in document["rows"]] == list(STEPS)
    assert document["variable"] == "x"
    assert document["autograd"] == pytest.approx(0.8775825618903728)
    assert 1e-10 <= document["best_forward_h"] <= 1e-6


def test_cli_terminal_plot_and_file(run_cli, tmp_path):
    result = run_cli("eval", "exp(x)", "--at", "1", "--quotient", "--plot")
    assert result.exit_code == 0, result.output
    assert "log-log: |forward quotient - autograd| against h" in result.stdout
    assert "log-log: |central quotient - autograd| against h" in result.stdout
    pytest.importorskip("matplotlib")
    target = tmp_path / "quotient.png"
    result = run_cli("eval", "exp(x)", "--at", "1", "--quotient", "--save", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_variables_need_wrt(run_cli):
    result = run_cli("eval", "x*y", "--at", "x=1,y=2", "--quotient", "--wrt", "y")
    assert result.exit_code == 0, result.output
    assert "∂f/∂y = 1" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x^2", "--range", "0:1", "--quotient"], "--quotient works at one point"),
        (["x^2", "--at", "1", "--at", "2", "--quotient"], "--quotient works at one point"),
        (["x^2", "--at", "1", "--order", "2", "--quotient"], "leave out --order"),
        (["x*y", "--at", "x=1,y=2", "--quotient"], "name it with --wrt"),
        (["log(x)", "--at", "-1", "--quotient"], "not finite at this point"),
        (["x^2", "--at", "1", "--quotient", "--save", "q.jpg"], "must end in"),
        (["x^2", "--at", "1", "--quotient", "--plot", "--json"], "cannot share stdout"),
        (["x^2", "--at", "1", "--quotient", "--csv", "q.csv"], "with --quotient use --json"),
    ],
)
def test_unusable_requests_exit_2(run_cli, args, message):
    result = run_cli("eval", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_half_precision_turns_within_the_first_steps():
    report = difference_quotients("x^2", ("1",), dtype="float16")
    assert report.dtype == "float16"
    assert report.rows[report.best_forward].h >= 1e-3  # eps(float16) ≈ 1e-3
    assert report.rows[-1].forward != report.rows[-1].forward  # h = 1e-16 underflows: 0/0
