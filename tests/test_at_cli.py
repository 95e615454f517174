"""One grammar of --at in eval, check and graph, as the user sees it on the command line."""

from __future__ import annotations

import json
import textwrap

import pytest

MATMUL = textwrap.dedent(
    """
    import torch


    def f(a):
        return (a @ a).sum()
    """
)


def table_rows(stdout: str) -> list[list[str]]:
    """The rows of eval's table under its header, split into cells."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["x", "f"])
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


# eval: a vector means several points


def test_eval_vector_is_three_points(run_cli):
    result = run_cli("eval", "x^2", "--at", "x=0,1,2")
    assert result.exit_code == 0, result.stderr
    assert [row[:3] for row in table_rows(result.stdout)] == [
        ["0", "0", "0"],
        ["1", "1", "2"],
        ["2", "4", "4"],
    ]
    assert "3 points: 3 ok" in result.stdout


def test_eval_bare_vector_for_one_variable_is_three_points(run_cli):
    result = run_cli("eval", "x^2", "--at", "0,1,2")
    assert result.exit_code == 0, result.stderr
    assert [row[0] for row in table_rows(result.stdout)] == ["0", "1", "2"]


def test_eval_vectors_pair_up_and_a_number_broadcasts(run_cli):
    result = run_cli("eval", "x*y", "--at", "x=1,2,y=3,4", "--json")
    assert result.exit_code == 0, result.stderr
    points = [row["at"] for row in json.loads(result.stdout)["points"]]
    assert points == [{"x": 1.0, "y": 3.0}, {"x": 2.0, "y": 4.0}]
    result = run_cli("eval", "x*y", "--at", "x=1,2,3,y=10", "--json")
    points = [row["at"] for row in json.loads(result.stdout)["points"]]
    assert points == [{"x": 1.0, "y": 10.0}, {"x": 2.0, "y": 10.0}, {"x": 3.0, "y": 10.0}]


def test_eval_existing_forms_keep_their_meaning(run_cli):
    result = run_cli("eval", "x*y", "--at", "x=1,y=2", "--at", "y=5, x=-1", "--json")
    assert result.exit_code == 0, result.stderr
    points = [row["at"] for row in json.loads(result.stdout)["points"]]
    assert points == [{"x": 1.0, "y": 2.0}, {"x": -1.0, "y": 5.0}]
    result = run_cli("eval", "x*y", "--at", "y=2")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --at 'y=2' gives no value for x"]
    result = run_cli("eval", "x*y", "--at", "1,2")  # not two points of x = y: ambiguous
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --at '1,2': name the variables, as in --at x=1,y=1"
    ]


def test_eval_constants_and_repeated_at_still_work(run_cli):
    result = run_cli("eval", "sin(x)", "--at", "x=pi/4", "--at", "1.5", "--at", "x=-1", "--json")
    assert result.exit_code == 0, result.stderr
    xs = [row["at"]["x"] for row in json.loads(result.stdout)["points"]]
    assert xs == pytest.approx([0.7853981633974483, 1.5, -1.0])


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["x*y", "--at", "x=1,2,y=3,4,5"],
            "error: --at 'x=1,2,y=3,4,5': x has 2 and y has 3 values; vectors pair up element "
            "by element, so give them the same length (or one number, the same at every point)",
        ),
        (
            ["x^2", "--at", "x=[[1,2],[3,4]]"],
            "error: --at 'x=[[1,2],[3,4]]': x is 2×2, but eval works on numbers, one per "
            "variable: a matrix is for gradx graph or gradx check",
        ),
        (
            ["x^2", "--at", "x=0,1,2", "--quotient"],
            "error: --quotient works at one point: --at gives 3 points (one number per "
            "variable, as in --at x=1)",
        ),
        (
            ["x*y", "--range", "x=0:1", "--at", "y=1,2"],
            "error: with --range, --at gives one number to each other variable: y is a vector "
            "in --at 'y=1,2'",
        ),
        (
            ["x^2", "--at", "x=[1,2"],
            "error: --at 'x=[1,2': the '[' at character 3 is not closed by ']'",
        ),
        (["x^2", "--at", "x="], "error: --at 'x=': no value after 'x='"),
    ],
)
def test_eval_refusals_are_one_line_exit_2(run_cli, args, line):
    result = run_cli("eval", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


# graph: a vector is a 1-D tensor, a nested list an N-D one


def test_graph_shows_a_matrix_as_rows_in_the_tree(run_cli):
    result = run_cli("graph", "x*y", "--at", "x=[[1,2],[3,4]]", "--at", "y=2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "output (2, 2) float64 · grad_fn=MulBackward0",
        "= [[2, 4],",
        "   [6, 8]]",
    ]
    at = next(i for i, line in enumerate(lines) if "AccumulateGrad → x (2, 2)" in line)
    assert lines[at].endswith("· leaf, requires_grad · grad")
    assert lines[at + 1 : at + 3] == ["    │   [[2, 2],", "    │    [2, 2]]"]
    assert "AccumulateGrad → y () float64 · leaf, requires_grad · grad 10" in result.stdout


def test_graph_vector_runs_until_the_next_name(run_cli):
    result = run_cli("graph", "x*y", "--at", "x=0,1,2,3,y=4", "--json")
    assert result.exit_code == 0, result.stderr
    leaves = {leaf["name"]: leaf for leaf in json.loads(result.stdout)["leaves"]}
    assert leaves["x"]["tensor"]["shape"] == [4] and leaves["y"]["tensor"]["shape"] == []
    assert leaves["y"]["grad"]["values"] == [6.0]  # 0 + 1 + 2 + 3


def test_graph_bare_value_is_for_every_variable(run_cli):
    result = run_cli("graph", "x*y", "--at", "3", "--json")
    assert result.exit_code == 0, result.stderr
    leaves = {leaf["name"]: leaf for leaf in json.loads(result.stdout)["leaves"]}
    assert leaves["x"]["grad"]["values"] == [3.0] and leaves["y"]["grad"]["values"] == [3.0]


def test_graph_of_a_file_takes_a_matrix(run_cli, tmp_path):
    script = tmp_path / "mm.py"
    script.write_text(MATMUL)
    result = run_cli("graph", f"{script}::f", "--at", "a=[[1,2],[3,4]]")
    assert result.exit_code == 0, result.stderr
    assert "AccumulateGrad → a (2, 2) float64 · leaf, requires_grad · grad" in result.stdout
    # The gradient of sum(a @ a) is J aᵀ + aᵀ J (J all ones): [[3+4, 7+4], [3+6, 7+6]].
    assert "[[ 7, 11]," in result.stdout and "[ 9, 13]]" in result.stdout


def test_graph_of_a_file_refuses_an_unknown_name(run_cli, tmp_path):
    script = tmp_path / "mm.py"
    script.write_text(MATMUL)
    result = run_cli("graph", f"{script}::f", "--at", "z=1")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: mm.py::f has no parameter named z (parameters: a)"
    ]


def test_graph_of_a_file_refuses_a_shape_that_disagrees(run_cli, tmp_path):
    script = tmp_path / "mm.py"
    script.write_text(MATMUL)
    result = run_cli("graph", f"{script}::f", "--at", "a=[[1,2],[3,4]]", "--shape", "a=3,3")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --at a is 2×2 (4 values) but --shape says 3×3: give one of them, or make them agree"
    ]


@pytest.mark.parametrize(
    ("at", "line"),
    [
        (
            "x=[[1,2],[3]]",
            "error: --at 'x=[[1,2],[3]]': ragged list '[[1,2],[3]]': its rows differ in length "
            "or depth (a matrix needs rows of equal length)",
        ),
        ("z=1", "error: --at 'z=1': 'z' is not a variable here (the variables: x)"),
        (
            "x=" + "[" * 50,
            "error: --at 'x=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[': "
            "lists nested deeper than 8",
        ),
    ],
)
def test_graph_refusals_are_one_line_exit_2(run_cli, at, line):
    result = run_cli("graph", "x*x", "--at", at)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [line]


# check: a matrix input is checked as a matrix


def test_check_passes_on_a_matrix_input_and_shows_it_shaped(run_cli, tmp_path):
    script = tmp_path / "mm.py"
    script.write_text(MATMUL)
    result = run_cli("check", str(script), "--at", "a=[[1,2],[3,4]]", "--values")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS      f        function   a (2, 2)" in result.stdout
    value_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("a "))
    assert value_line.split() == ["a", "[[1,", "2],", "[[", "7,", "11],"]


def test_check_refuses_a_ragged_matrix(run_cli, tmp_path):
    script = tmp_path / "mm.py"
    script.write_text(MATMUL)
    result = run_cli("check", str(script), "--at", "a=[[1,2],[3]]")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --at 'a=[[1,2],[3]]': ragged list '[[1,2],[3]]': its rows differ in length "
        "or depth (a matrix needs rows of equal length)"
    ]
    assert result.stdout == ""


def test_matrices_and_higher_tensors_print_as_torch_prints_them():
    from gradx.render.numbers import fmt_array

    assert fmt_array(["0", "4", "8", "12"], (4,)) == "[0, 4, 8, 12]"
    assert fmt_array(["7", "11", "9", "13"], (2, 2)) == "[[ 7, 11],\n [ 9, 13]]"
    assert fmt_array([str(n) for n in range(8)], (2, 2, 2)) == (
        "[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]"
    )
    assert fmt_array(["1.5"], ()) == "1.5"
