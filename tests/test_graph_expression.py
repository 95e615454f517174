"""``gradx graph EXPRESSION``: the backward graph of an expression, through the core and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

from gradx.commands.graph.sources import expression_graph
from gradx.commands.graph.view import build_view


def test_non_scalar_output_backward_with_ones_gives_the_d2l_gradient():
    graph = expression_graph("2*x*x", ["x=0,1,2,3"])
    assert graph.output.shape == (4,)
    assert graph.output.values == (0.0, 2.0, 8.0, 18.0)
    assert [n.name for n in graph.nodes] == ["MulBackward0", "MulBackward0", "AccumulateGrad"]
    (x,) = graph.leaves
    assert x.name == "x" and x.requires_grad and x.in_graph
    assert x.grad.values == (0.0, 4.0, 8.0, 12.0)  # d(sum 2x²)/dx = 4x
    assert "torch.ones_like(output)" in graph.backward_text
    assert graph.exit_ok


def test_saved_tensors_name_the_leaf_and_the_node_they_come_from():
    graph = expression_graph("sin(x)*x", ["x=0.5"])
    mul = graph.nodes[graph.root]
    saved = {s.name: s.refers_to for s in mul.saved}
    assert saved == {"self": "#1", "other": "x"}  # self = sin(x), the output of node #1
    sin = graph.nodes[1]
    assert sin.name == "SinBackward0"
    assert [(s.name, s.refers_to) for s in sin.saved] == [("self", "x")]


def test_cli_prints_the_tree_leaves_and_gradients(run_cli):
    result = run_cli("graph", "x*y + sin(x)", "--at", "x=0,y=2")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("output () float64 = 0 · grad_fn=AddBackward0")
    for text in ("#0 AddBackward0", "MulBackward0", "SinBackward0", "AccumulateGrad → x"):
        assert text in out
    assert "↑ #" in out  # x is reached twice: shown once, then referenced
    rows = {
        line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:3] in (" x ", " y ")
    }
    assert rows["x"] == ["()", "float64", "yes", "0", "3"]  # x = 0, dx = y + cos(0)
    assert rows["y"] == ["()", "float64", "yes", "2", "0"]  # y = 2, dy = x
    assert "backward: output.backward()" in out
    assert "nodes, all shown" in out


def test_unset_variables_default_to_one_with_a_note(run_cli):
    result = run_cli("graph", "x*y", "--at", "x=3")
    assert result.exit_code == 0
    assert "note: y = 1 (not given: set it with --at y=…)" in result.stdout


def test_json_describes_every_node(run_cli):
    result = run_cli("graph", "exp(x)", "--at", "x=0", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema"] == 1
    assert [n["name"] for n in doc["nodes"]] == ["ExpBackward0", "AccumulateGrad"]
    assert doc["nodes"][0]["saved"][0]["name"] == "result"
    assert doc["leaves"][0]["grad"]["values"] == [1.0]
    assert doc["counts"] == {"nodes": 2, "shown": 2, "folded": 0, "below_depth": 0}


def test_dot_file_is_written_without_graphviz(run_cli, tmp_path):
    target = tmp_path / "g.dot"
    result = run_cli("graph", "x*x", "--at", "x=3", "--dot", str(target))
    assert result.exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("digraph autograd {") and text.rstrip().endswith("}")
    assert '"#0 MulBackward0' in text and "fillcolor=lightblue" in text
    assert "n1 -> n0;" in text and "n0 -> output;" in text
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_depth_hides_deep_nodes_and_counts_them():
    graph = expression_graph("exp(sin(cos(tan(x))))", ["x=0.3"])
    view = build_view(graph, depth=2)
    assert view.total == 5
    assert view.shown == 2 and view.below_depth == 3
    assert view.root.children[0].children[0].kind == "more"


def test_bad_inputs_exit_2_with_one_line(run_cli, tmp_path):
    cases = [
        (["graph", "x*", "--at", "x=1"], "syntax error"),
        (["graph", "x*y", "--at", "x=1", "--at", "x=2"], "--at gives x twice"),
        (["graph", "x", "--at", "z=1"], "'z' is not a variable"),
        (["graph", "2*3"], "no variables"),
        (["graph", "x+y", "--at", "x=1,2,3", "--at", "y=1,2"], "do not fit together"),
        (["graph", "x", "--dot", str(tmp_path / "no" / "g.dot")], "does not exist"),
        (["graph", "x", "--depth", "0"], "--depth"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_no_backward_shows_the_graph_without_gradients(run_cli):
    result = run_cli("graph", "x*x", "--at", "x=3", "--no-backward")
    assert result.exit_code == 0
    assert "— (no backward pass)" in result.stdout
    assert "grad 6" not in result.stdout
    assert "backward: no backward pass (--no-backward)" in result.stdout


def test_failed_backward_is_a_failure_that_blames_no_leaf():
    # No expression makes backward fail, so the model's rule is checked on a copy.
    graph = expression_graph("x*x", ["x=3"])
    failed = replace(graph, backward_error="RuntimeError: boom")
    assert graph.exit_ok
    assert not failed.exit_ok and failed.starved_leaves == ()


def test_an_output_that_is_its_own_input_gets_gradient_one(run_cli):
    result = run_cli("graph", "x", "--at", "x=3")
    assert result.exit_code == 0, result.output
    assert "the output is the input x itself" in result.stdout
    assert "received no gradient" not in result.stdout
    data = json.loads(run_cli("graph", "x", "--json").stdout)
    assert data["leaves"][0]["grad"]["values"] == [1.0]
    assert data["starved_leaves"] == []
