"""``gradx graph EXPR --order N``: the graphs create_graph=True builds for each order."""

from __future__ import annotations

import json
import math

import pytest

from gradx.commands.graph.orders import derivative_graphs


def test_each_order_has_its_graph_and_the_graphs_grow():
    report = derivative_graphs("x*sin(x)", ("x=1",), order=3)
    assert [s.order for s in report.steps] == [0, 1, 2, 3]
    s, c = math.sin(1), math.cos(1)
    expected = [s, s + c, 2 * c - s, -3 * s - c]  # (x sin x)^(k) at 1
    for step, value in zip(report.steps, expected, strict=True):
        assert step.graph.output.values == pytest.approx((value,))
    nodes = [step.nodes for step in report.steps]
    assert nodes == sorted(nodes) and len(set(nodes)) == len(nodes)  # strictly growing
    assert all(step.saved_tensors > 0 and step.saved_bytes > 0 for step in report.steps)
    # scalars of 8 bytes; a tensor saved by several nodes is held (and counted) once
    assert all(8 <= step.saved_bytes <= 8 * step.saved_tensors for step in report.steps)
    assert report.stopped is None


def test_a_constant_derivative_ends_the_chain():
    report = derivative_graphs("x^2", ("x=3",), order=5)
    assert report.stopped is not None and "and above are 0" in str(report.stopped)
    assert not report.failed
    assert report.steps[2].graph.output.values == (2.0,)


def test_cli_prints_trees_and_the_growth_table(run_cli):
    result = run_cli("graph", "x*sin(x)", "--at", "x=1", "--order", "2")
    assert result.exit_code == 0, result.output
    for order in range(3):
        assert f"order {order}:" in result.stdout
    assert "create_graph=True" in result.stdout
    assert "how the graph grows (differentiating along x)" in result.stdout
    assert "saved tensors" in result.stdout


def test_cli_json(run_cli):
    result = run_cli("graph", "exp(x)*y", "--order", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["variable"] == "x"
    assert [o["order"] for o in document["orders"]] == [0, 1, 2, 3]
    assert all(o["value"] == pytest.approx([math.e]) for o in document["orders"])
    assert document["orders"][3]["nodes"] > document["orders"][1]["nodes"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sin(x)", "--order", "0"], "--order must be between 1 and 6"),
        (["sin(x)", "--order", "7"], "--order must be between 1 and 6"),
        (["model.py::f", "--order", "2"], "no such file: model.py"),
        (["x*y", "--order", "2", "--shape", "x=3"], "--shape is for a file target"),
        (["x*y", "--order", "2", "--at", "x=1,2", "--gradient", "1,2,3"], "--gradient has 3"),
        (["2", "--order", "2"], "no variables"),
    ],
)
def test_unusable_requests_exit_2(run_cli, args, message):
    result = run_cli("graph", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_saved_leaves_are_named_in_every_order():
    # read back through saved_tensors_hooks a saved leaf is a new tensor object; it is still x
    report = derivative_graphs("x*sin(x)", ("x=1",), order=2)
    for step in report.steps:
        refers = {s.refers_to for node in step.graph.nodes for s in node.saved}
        assert not any(r.startswith("leaf") for r in refers), refers
    sin = next(n for n in report.steps[0].graph.nodes if n.name == "SinBackward0")
    assert [(s.name, s.refers_to) for s in sin.saved] == [("self", "x")]


def test_a_vector_output_is_summed_and_said_so(run_cli):
    result = run_cli("graph", "x*sin(x)", "--at", "x=1,2", "--order", "2")
    assert result.exit_code == 0, result.output
    assert "inputs: x = [1, 2]" in result.stdout
    assert "note: f has 2 elements, not one: f' is the gradient of f.sum()" in result.stdout


def test_gradient_seeds_the_first_derivative(run_cli):
    args = ("graph", "x*sin(x)", "--at", "x=1,2", "--order", "2", "--gradient", "1,0")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "f', built by torch.autograd.grad(f, x, grad_outputs=[1, 0], create_graph=True)" in text
    assert "note: f' is the gradient of (f * v).sum() for v = --gradient [1, 0]" in text
    document = json.loads(run_cli(*args, "--json").stdout)
    s, c = math.sin(1), math.cos(1)
    assert document["grad_outputs"] == "[1, 0]"
    assert document["orders"][1]["value"] == pytest.approx([s + c, 0.0])
    # f'' = d/dx of (f'[0] + f'[1]).sum(): only x[0] moved f'
    assert document["orders"][2]["value"] == pytest.approx([2 * c - s, 0.0])


SCRIPT = """
import torch
print("loading the file")


def dot(x):
    return 2 * torch.dot(x, x)


def vector(x, w):
    print("inside vector")
    return w * torch.sin(x)


def spin(x):
    while True:
        pass


def broken(x):
    return x.nonexistent()


def constant():
    return torch.ones(3)
"""


@pytest.fixture
def script(tmp_path):
    pytest.importorskip("gradx.user_script.inputs")
    path = tmp_path / "orders.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_script_target_shows_each_order_and_its_printed_output_apart(script, run_cli):
    result = run_cli("graph", f"{script}::dot", "--at", "x=0,1,2,3", "--order", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"{script} printed:", "│ loading the file"]
    out = result.stdout
    for order in range(3):
        assert f"order {order}:" in out
    assert "DotBackward0 → () float64 · saved: self=x (4,), tensor=x (4,)" in out
    assert "[0, 4, 8, 12]" in out  # f' = 4x
    assert "how the graph grows (differentiating along x)" in out
    assert "time of each pass: f " in out


def test_script_target_as_json(script, run_cli):
    result = run_cli("graph", f"{script}::dot", "--at", "x=0,1,2,3", "--order", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["expression"] == f"{script}::dot"
    assert document["printed"] == ["loading the file"]
    assert [o["value"] for o in document["orders"]] == [[28.0], [0.0, 4.0, 8.0, 12.0], [4.0] * 4]
    assert document["stopped"].startswith("f'' is constant in x")
    assert document["orders"][0]["saved_tensors"] > 0


def test_script_target_non_scalar_with_random_inputs_says_how(script, run_cli):
    shapes = ("--shape", "x=3", "--shape", "w=3")
    result = run_cli("graph", f"{script}::vector", *shapes, "--order", "2", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["variable"] == "x"  # the first input, not w
    assert document["printed"] == ["loading the file", "inside vector"]
    notes = " ".join(document["notes"])
    assert "inputs drawn at random (seed 0)" in notes
    assert "f has 3 elements, not one: f' is the gradient of f.sum()" in notes
    graph = document["orders"][0]["graph"]
    x = next(leaf for leaf in graph["leaves"] if leaf["name"] == "x")
    w = next(leaf for leaf in graph["leaves"] if leaf["name"] == "w")
    first = document["orders"][1]["value"]
    pairs = zip(w["tensor"]["values"], x["tensor"]["values"], strict=True)
    expected = [wi * math.cos(xi) for wi, xi in pairs]
    assert first == pytest.approx(expected)


def test_script_target_with_gradient(script, run_cli):
    args = ("graph", f"{script}::vector", "--at", "x=1,2", "--at", "w=1,1", "--order", "2")
    result = run_cli(*args, "--gradient", "0,1", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["grad_outputs"] == "[0, 1]"
    assert document["orders"][1]["value"] == pytest.approx([0.0, math.cos(2)])


def test_script_target_that_never_returns_is_stopped(script, run_cli):
    result = run_cli("graph", f"{script}::spin", "--order", "2", "--timeout", "3")
    assert result.exit_code == 1
    assert "did not finish within 3 s (--timeout)" in result.stderr


@pytest.mark.parametrize(
    ("name", "args", "code", "message"),
    [
        ("broken", (), 1, "raised AttributeError"),
        ("nope", (), 2, "no target named 'nope'"),
        ("dot", ("--order", "7"), 2, "--order must be between 1 and 6"),
        ("dot", ("--gradient", "[1"), 2, "--gradient"),
        ("constant", (), 2, "it takes no tensor arguments"),
    ],
)
def test_script_target_errors_are_one_line(script, run_cli, name, args, code, message):
    order = () if "--order" in args else ("--order", "2")
    result = run_cli("graph", f"{script}::{name}", *order, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_frozen_variables_are_constants_and_the_next_one_is_differentiated(run_cli):
    result = run_cli("graph", "x*y^2", "--at", "x=2", "--order", "2", "--frozen", "x", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["variable"] == "y"
    assert [o["value"] for o in document["orders"]] == [[2.0], [4.0], [4.0]]  # 2y², 4y, 4
    assert "y = 1 (not given: set it with --at y=…)" in document["notes"]
    result = run_cli("graph", "x*y", "--order", "2", "--frozen", "x", "--frozen", "y")
    assert result.exit_code == 2
    assert "every variable is --frozen" in result.stderr


def test_script_target_frozen_input(script, run_cli):
    args = ("graph", f"{script}::vector", "--at", "x=1,2", "--at", "w=3,4", "--order", "2")
    result = run_cli(*args, "--frozen", "x", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["variable"] == "w"
    assert document["orders"][1]["value"] == pytest.approx([math.sin(1), math.sin(2)])


def test_order_with_dot_is_refused_not_ignored(run_cli, tmp_path) -> None:
    target = tmp_path / "g.dot"
    result = run_cli("graph", "sin(x)", "--order", "2", "--dot", str(target))
    assert result.exit_code == 2
    assert "--dot writes one graph; with --order K use --save" in result.stderr
    assert not target.exists()
