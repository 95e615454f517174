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
    assert report.stopped is not None and "and above are 0" in report.stopped
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
        (["model.py::f", "--order", "2"], "--order is for an expression"),
        (["2", "--order", "2"], "no variables"),
    ],
)
def test_unusable_requests_exit_2(run_cli, args, message):
    result = run_cli("graph", *args)
    assert result.exit_code == 2
    assert message in result.output
