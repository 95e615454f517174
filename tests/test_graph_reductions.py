"""``gradx graph`` expressions on tensors: the reductions ``sum``, ``mean``, ``dot``, ``norm``
(d2l's first autograd example is ``2*dot(x, x)``); ``gradx eval``, whose variables are numbers,
keeps refusing them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.commands.graph.sources import expression_graph
from gradx.errors import GradxError
from gradx.expression.parser import parse_expression


def test_d2l_first_example_shows_the_graph_and_x_grad_is_4x(run_cli):
    result = run_cli("graph", "2*dot(x,x)", "--at", "x=0,1,2,3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("output () float64 = 28 · grad_fn=MulBackward0")
    assert "#1 DotBackward0" in out
    assert "saved: self=x (4,), tensor=x (4,)" in out
    assert "[0, 4, 8, 12]" in out  # x.grad = 4x, as d2l shows
    assert "backward: output.backward()" in out  # a scalar: no gradient vector needed


def test_d2l_first_example_as_json(run_cli):
    result = run_cli("graph", "2*dot(x,x)", "--at", "x=0,1,2,3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    names = [node["name"] for node in document["nodes"]]
    assert names[:2] == ["MulBackward0", "DotBackward0"]
    (x,) = document["leaves"]
    assert x["grad"]["values"] == [0.0, 4.0, 8.0, 12.0]


def test_d2l_first_example_with_order_2(run_cli):
    result = run_cli("graph", "2*dot(x,x)", "--at", "x=0,1,2,3", "--order", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "order 1: f', built by torch.autograd.grad(f.sum(), x, create_graph=True)" in out
    assert "[0, 4, 8, 12]" in out
    assert "DotBackward0" in out
    # the second derivative of 2 x·x along x, summed: 4 in every entry
    assert "4, 4, 4, 4" in out


def test_d2l_first_example_with_order_as_json(run_cli):
    args = ("graph", "2*dot(x,x)", "--at", "x=0,1,2,3", "--order", "3", "--json")
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [o["value"] for o in document["orders"]] == [[28.0], [0.0, 4.0, 8.0, 12.0], [4.0] * 4]
    assert document["stopped"].startswith("f'' is constant in x")


@pytest.mark.parametrize(
    ("expression", "value", "grad"),
    [
        ("sum(x)", 7.0, [1.0, 1.0]),
        ("mean(x^2)", 12.5, [3.0, 4.0]),
        ("norm(x)", 5.0, [0.6, 0.8]),
        ("torch.norm(x, p=1)", 7.0, [1.0, 1.0]),
        ("norm(x, 3)", (27 + 64) ** (1 / 3), [9 / 91 ** (2 / 3), 16 / 91 ** (2 / 3)]),
        ("dot(x, y)", 3 * 5 + 4 * 6, [5.0, 6.0]),
        ("sum(x*y) - dot(x, y)", 0.0, [0.0, 0.0]),
    ],
)
def test_reductions_have_torchs_values_and_gradients(expression, value, grad):
    graph = expression_graph(expression, ["x=3,4", "y=5,6"][: 2 if "y" in expression else 1])
    assert graph.output.shape == ()
    assert graph.output.values == pytest.approx((value,))
    x = next(leaf for leaf in graph.leaves if leaf.name == "x")
    assert x.grad.values == pytest.approx(grad)
    assert graph.exit_ok


@pytest.mark.parametrize("expression", ["sum(x)", "mean(x)", "norm(x)"])
def test_reductions_of_a_number_are_fine(expression):
    graph = expression_graph(expression, ["x=-2"])
    assert graph.output.values == (abs(-2.0) if "norm" in expression else -2.0,)
    assert graph.leaves[0].grad.values == ((-1.0,) if "norm" in expression else (1.0,))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dot(x, x)", "--at", "x=2"], "got shapes () and ()"),
        (["dot(x, y)", "--at", "x=1,2", "--at", "y=1,2,3"], "got shapes (2,) and (3,)"),
        (["dot(x, x)", "--at", "x=[[1,2],[3,4]]"], "got shapes (2, 2) and (2, 2)"),
        (["dot(x, 2)", "--at", "x=1,2"], "dot(a, b) takes two vectors (1-D tensors); 2 is a"),
        (["norm(x, 0.5)", "--at", "x=1,2"], "the p of norm must be at least 1"),
        (["sum(x, 1)", "--at", "x=1,2"], "sum() takes 1 argument, got 2"),
        (["matmul(x, x)", "--at", "x=1,2"], "gradx graph FILE.py::NAME"),
        (["sum + x", "--at", "x=1,2"], "'sum' is a function: call it"),
    ],
)
def test_misuse_is_one_clean_line_exit_2(run_cli, args, message):
    result = run_cli("graph", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error:")


@pytest.mark.parametrize("name", ["sum", "mean", "dot", "norm"])
def test_eval_still_refuses_reductions_and_points_to_graph(run_cli, name):
    result = run_cli("eval", f"{name}(x, x)" if name == "dot" else f"{name}(x)", "--at", "1")
    assert result.exit_code == 2
    assert f"unknown function {name!r}: expressions work on numbers" in result.output
    assert f"gradx graph, whose variables are tensors, has {name}" in result.output


def test_a_leading_minus_reduction_reaches_graph(run_cli):
    result = run_cli("graph", "-sum(x)", "--at", "x=1,2")
    assert result.exit_code == 0, result.output
    assert "SumBackward0" in result.stdout


_TENSOR_ALPHABET = st.sampled_from(
    "x y 1 2 . + - * / ^ ( ) , sum mean dot norm torch. p= ord= sin where > pi _ [ ] =".split()
    + [" "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TENSOR_ALPHABET, max_size=30).map("".join))
def test_parser_with_reductions_gives_a_tree_or_a_clean_error(text):
    try:
        parse_expression(text, tensors=True)
    except GradxError as error:
        assert error.message and "\n" not in error.message


@settings(max_examples=100, deadline=None)
@given(st.lists(_TENSOR_ALPHABET, max_size=16).map("".join))
def test_accepted_tensor_expressions_graph_or_fail_cleanly(text):
    try:
        parsed = parse_expression(text, tensors=True)
    except GradxError:
        return
    at = [f"{name}=1,2" for name in parsed.variables]
    try:
        graph = expression_graph(text, at)
    except GradxError as error:
        assert error.message and "\n" not in error.message
    else:
        assert graph.title == text
        assert {leaf.name for leaf in graph.leaves} >= set(parsed.variables)
