"""gradx graph for a learner: values beside gradients, matrices, .data writes, --frozen,
--gradient, and a file's own prints kept apart."""

from __future__ import annotations

import json
import textwrap

import pytest

SEED_002 = textwrap.dedent(
    """
    import torch

    print("loading the file")


    def f(x, w):
        y = x * 2
        z = torch.mm(w, y.reshape(4, 1))  # saves y for the gradient of w
        y.data -= 1
        print("inside f")
        return z.sum()


    def example_f():
        return torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.ones(1, 4)
    """
)


def graph_json(run_cli, *args: str) -> tuple[int, dict]:
    result = run_cli("graph", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def leaf_rows(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["leaf"])
    return lines[start + 2 :]


def test_leaves_show_their_values_beside_their_gradients(run_cli):
    result = run_cli("graph", "2*x*x", "--at", "x=0,1,2,3")
    assert result.exit_code == 0
    (row,) = [line for line in leaf_rows(result.stdout) if line.startswith(" x ")]
    assert row.split()[4:] == ["[0,", "1,", "2,", "3]", "[0,", "4,", "8,", "12]"]


def test_a_nested_list_is_a_matrix_and_shows_as_one(run_cli):
    result = run_cli("graph", "a*a", "--at", "a=[[1,2],[3,4]]")
    assert result.exit_code == 0
    rows = leaf_rows(result.stdout)
    assert "[[1, 2],   [[2, 4]," in rows[0]
    assert "[3, 4]]    [6, 8]]" in rows[1]
    code, document = graph_json(run_cli, "a*a", "--at", "a=[[1,2],[3,4]]")
    (leaf,) = document["leaves"]
    assert leaf["tensor"]["shape"] == [2, 2] and leaf["grad"]["values"] == [2, 4, 6, 8]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            "a=[[1,2],[3]]",
            "error: --at 'a=[[1,2],[3]]': ragged list '[[1,2],[3]]': its rows differ in length "
            "or depth (a matrix needs rows of equal length)",
        ),
        ("a=[1,2", "error: --at 'a=[1,2': the '[' at character 3 is not closed by ']'"),
        ("a=", "error: --at 'a=': no value after 'a='"),
        (
            "a=[1,2],3",
            "error: --at 'a=[1,2],3': a: give one list in brackets, or numbers "
            "separated by commas, not both ('[1,2]')",
        ),
        ("a=[]", "error: --at 'a=[]': an empty list has no values"),
    ],
)
def test_bad_lists_are_one_red_line(run_cli, at, message):
    result = run_cli("graph", "a*a", "--at", at)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]


def test_frozen_leaf_does_not_require_grad(run_cli):
    code, document = graph_json(run_cli, "x*y", "--at", "x=2,y=3", "--frozen", "y")
    assert code == 0
    leaves = {leaf["name"]: leaf for leaf in document["leaves"]}
    assert leaves["y"]["requires_grad"] is False and leaves["y"]["grad"] is None
    assert leaves["x"]["grad"]["values"] == [3.0]
    result = run_cli("graph", "x*y", "--frozen", "z")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --frozen z: no leaf of that name (leaves: x, y)"]


def test_gradient_vector_for_a_non_scalar_output(run_cli):
    code, document = graph_json(run_cli, "2*x*x", "--at", "x=0,1,2,3", "--gradient", "1,0,0,1")
    assert code == 0
    assert document["backward"] == "output.backward(gradient=[1, 0, 0, 1]) (--gradient)"
    assert document["leaves"][0]["grad"]["values"] == [0.0, 0.0, 0.0, 12.0]
    result = run_cli("graph", "2*x*x", "--at", "x=0,1,2,3", "--gradient", "1,0")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --gradient has 2 value(s) but the output has shape (4,) (4 elements): "
        "give one per element"
    ]


def test_a_write_through_data_to_a_saved_tensor_is_marked(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    script = tmp_path / "seed002.py"
    script.write_text(SEED_002)
    result = run_cli("graph", f"{script}::f")
    assert result.exit_code == 1  # the gradient of w is wrong
    assert "saved: mat2=#3 ✎ changed through .data at seed002.py:10" in result.stdout
    assert (
        "✎ a tensor saved for backward was changed through .data at seed002.py:10 "
        "(y.data -= 1): backward used the changed values, so the gradients above are wrong"
    ) in result.stdout
    # [1, 3, 5, 7]: the saved y after y.data -= 1, where [2, 4, 6, 8] was right
    assert "[[1, 3, 5, 7]]" in result.stdout


def test_the_files_own_prints_are_kept_apart(run_cli, tmp_path):
    script = tmp_path / "seed002.py"
    script.write_text(SEED_002)
    result = run_cli("graph", f"{script}::f")
    lines = result.stdout.splitlines()
    assert lines[:3] == [f"{script} printed:", "│ loading the file", "│ inside f"]
    assert "loading the file" not in "\n".join(lines[3:])
    code, document = graph_json(run_cli, f"{script}::f")  # still one JSON document
    assert document["printed"] == ["loading the file", "inside f"]
