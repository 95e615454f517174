"""``gradx eval`` through the CLI: exit codes, stdout/stderr, JSON, CSV, --all, options."""

from __future__ import annotations

import csv
import json

import pytest

from gradx.atomic_file import atomic_write


def test_readme_example_exits_0_with_a_table(run_cli):
    result = run_cli("eval", "sin(x)", "--range", "-6.28:6.28")
    assert result.exit_code == 0, result.stderr
    assert "f'(x) = cos(x)" in result.stdout
    assert "13 points: 13 ok, 0 nondifferentiable, 0 domain, 0 mismatch" in result.stdout
    assert result.stderr == ""


def test_a_mismatch_exits_1_and_says_why(run_cli):
    result = run_cli("eval", "relu(x) - relu(-x)", "--at", "x=0")
    assert result.exit_code == 1
    assert "mismatch" in result.stdout
    assert "autograd gives 0, but symbolic and numeric agree on 1" in result.stdout


def test_kinks_and_domain_errors_exit_0_because_they_are_explained(run_cli):
    result = run_cli("eval", "abs(x)", "--at", "0", "--at", "x=-1")
    assert result.exit_code == 0
    assert "nondifferentiable" in result.stdout
    result = run_cli("eval", "log(x)", "--at", "x=-1")
    assert result.exit_code == 0
    assert "domain" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sinn(x)", "--at", "x=1"], "unknown function 'sinn' — did you mean 'sin'?"),
        (["sin(x", "--at", "x=1"], "syntax error"),
        (["__import__('os').system('echo pwned')", "--at", "x=1"], "not allowed"),
        (["x", "--range", "1:-1"], "reversed"),
        (["x", "--range", "banana"], "is not A:B or A:B:STEP"),
        (["x", "--range", "0:1", "--steps", "1"], "--steps must be between 2"),
        (["x", "--at", "y=1"], "'y' is not a variable of the expression"),
        (["x"], "no points"),
        (["x", "--at", "1", "--order", "0"], "--order must be between 1 and"),
        (["x", "--at", "1", "--wrt", "z"], "--wrt 'z' is not a variable"),
        (["x", "--at", "1", "--rtol", "-1"], "--rtol must be a finite number >= 0"),
        (["2+3", "--at", "1"], "no variables"),
        (
            ["x", "--at", "1", "--csv", "/no/such/folder/out.csv"],
            "folder /no/such/folder does not exist",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_red_line(run_cli, args, message):
    result = run_cli("eval", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and message in first
    assert "Traceback" not in result.stderr


def test_json_document_has_the_documented_shape(run_cli):
    result = run_cli(
        "eval", "x^2*y", "--at", "x=1,y=2", "--at", "x=0,y=0", "--order", "2", "--json"
    )
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["expression"] == "x^2*y"
    assert doc["variables"] == ["x", "y"]
    assert doc["order"] == 2
    assert doc["dtype"] == "float64"
    # --order 2: the gradient and the Hessian
    assert doc["derivative"] == {"x": "2*x*y", "y": "x**2", "x,x": "2*y", "x,y": "2*x", "y,y": "0"}
    point = doc["points"][0]
    assert point["at"] == {"x": 1.0, "y": 2.0}
    assert point["value"] == 2.0
    assert point["autograd"] == {"x": 4.0, "y": 1.0, "x,x": 4.0, "x,y": 2.0, "y,y": 0.0}
    assert point["symbolic"] == {"x": 4.0, "y": 1.0, "x,x": 4.0, "x,y": 2.0, "y,y": 0.0}
    assert set(point["numeric"]) == {"x", "y", "x,x", "x,y", "y,y"}
    assert point["status"] == "ok" and point["error"] == 0.0
    assert doc["summary"] == doc["summary"] | {
        "points": 2,
        "ok": 2,
        "nondifferentiable": 0,
        "domain": 0,
        "mismatch": 0,
    }


def test_json_writes_nan_and_inf_as_null(run_cli):
    result = run_cli("eval", "log(x)", "--at", "x=-1", "--at", "x=0", "--json")
    doc = json.loads(result.stdout)
    assert [p["value"] for p in doc["points"]] == [None, None]
    assert [p["status"] for p in doc["points"]] == ["domain", "domain"]
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout


def test_json_keeps_every_point_of_a_long_range(run_cli):
    result = run_cli("eval", "sin(x)", "--range", "0:1", "--steps", "500", "--json")
    doc = json.loads(result.stdout)
    assert len(doc["points"]) == 500
    assert [p["index"] for p in doc["points"]] == list(range(500))


def test_long_ranges_show_a_summary_and_the_interesting_rows(run_cli):
    result = run_cli("eval", "abs(x)", "--range", "-1:1", "--steps", "2001")
    assert result.exit_code == 0
    assert "2,001 points: 2,000 ok, 1 nondifferentiable" in result.stdout
    assert "more rows not shown" in result.stdout
    assert len(result.stdout.splitlines()) < 60
    everything = run_cli("eval", "abs(x)", "--range", "-1:1", "--steps", "2001", "--all")
    assert len(everything.stdout.splitlines()) > 2001


def test_wrt_restricts_the_derivatives(run_cli):
    doc = json.loads(run_cli("eval", "x*y", "--at", "x=2,y=3", "--wrt", "y", "--json").stdout)
    assert doc["wrt"] == ["y"]
    assert doc["points"][0]["autograd"] == {"y": 2.0}


def test_third_derivative_of_one_variable(run_cli):
    result = run_cli("eval", "sin(x)", "--at", "x=0.5", "--order", "3")
    assert result.exit_code == 0
    assert "f'''(x) = -cos(x)" in result.stdout


def test_float32_is_available_and_reported(run_cli):
    doc = json.loads(
        run_cli("eval", "sin(x)", "--range", "0:3", "--dtype", "float32", "--json").stdout
    )
    assert doc["dtype"] == "float32"
    assert doc["summary"]["ok"] == 13


def test_csv_has_a_header_and_one_row_per_point(run_cli, tmp_path):
    out = tmp_path / "table.csv"
    result = run_cli("eval", "x^2", "--range", "0:2", "--steps", "3", "--csv", str(out))
    assert result.exit_code == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["x"]) for r in rows] == [0.0, 1.0, 2.0]
    assert [float(r["autograd"]) for r in rows] == [0.0, 2.0, 4.0]
    assert {r["status"] for r in rows} == {"ok"}
    assert list(tmp_path.iterdir()) == [out]


def test_atomic_write_never_leaves_a_half_written_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old contents\n")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old contents\n"
    assert list(tmp_path.iterdir()) == [target]


def test_expression_starting_with_minus_after_double_dash(run_cli):
    result = run_cli("eval", "--at", "x=2", "--", "-x**2")
    assert result.exit_code == 0
    assert "-4" in result.stdout


def test_version_and_help(run_cli):
    assert run_cli("--version").stdout.startswith("gradx ")
    help_text = run_cli("eval", "--help").stdout
    for option in (
        "--at",
        "--range",
        "--steps",
        "--order",
        "--wrt",
        "--dtype",
        "--json",
        "--csv",
        "--all",
    ):
        assert option in help_text


def test_too_many_derivatives_are_refused(run_cli):
    names = "+".join(f"v{i}" for i in range(16))
    result = run_cli("eval", names, "--at", ",".join(f"v{i}=1" for i in range(16)), "--order", "3")
    assert result.exit_code == 2
    # 16 first, 136 second and 816 third derivatives
    assert "968 derivatives; the limit is 200: choose some with --wrt" in result.stderr
