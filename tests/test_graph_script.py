"""``gradx graph FILE.py::NAME``: the d2l autograd examples, cuts, and a 20-layer MLP."""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("gradx.user_script.inputs")  # script targets load through gradx check's loader

from gradx.commands.graph.sources import script_graph  # noqa: E402
from gradx.commands.graph.view import build_view  # noqa: E402
from gradx.render.graph_tree import view_group  # noqa: E402

SCRIPT = textwrap.dedent(
    """
    import torch
    from torch import nn


    def dot(x):
        return 2 * torch.dot(x, x)


    def f(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c


    def detached(x):
        y = x * x
        u = y.detach()
        z = u * x
        return z.sum()


    def starved(x, w):
        with torch.no_grad():
            scale = w * 2
        return (x * scale).sum()


    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Linear(4, 16), nn.ReLU()]
            for _ in range(18):
                layers += [nn.Linear(16, 16), nn.ReLU()]
            layers.append(nn.Linear(16, 1))
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            return self.net(x)
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "d2l.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_dot_product_gradient_is_4x(script):
    graph = script_graph(f"{script}::dot", ["x=0,1,2,3"])
    assert [n.name for n in graph.nodes] == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    dot = graph.nodes[1]
    assert dot.inputs == (2, 2)  # both operands are x: one AccumulateGrad node
    assert {s.refers_to for s in dot.saved} == {"x"}
    assert graph.leaves[0].grad.values == (0.0, 4.0, 8.0, 12.0)
    assert graph.backward_text == "output.backward()"


def test_control_flow_doubling_is_a_chain_of_muls_folded(script, run_cli):
    graph = script_graph(f"{script}::f", ["a=0.3"])
    muls = [n for n in graph.nodes if n.name == "MulBackward0"]
    assert len(muls) == 12  # b = a*2, then 11 doublings until |b| >= 1000
    (a,) = graph.leaves
    assert a.grad.values == (4096.0,)  # f(a) = 4096 a here, as d2l says: d = f(a)/a
    result = run_cli("graph", f"{script}::f", "--at", "a=0.3")
    assert result.exit_code == 0, result.stderr
    assert "⋯ 10 more × [MulBackward0] with the same shapes (10 nodes folded)" in result.stdout
    assert "13 nodes, 3 shown, 10 folded (repeats)" in result.stdout


def test_detach_is_shown_where_it_cuts(script, run_cli):
    graph = script_graph(f"{script}::detached", ["x=0,1,2,3"])
    (cut,) = graph.cuts
    assert cut.kind == "detach" and cut.code == "u = y.detach()"
    assert cut.location == "d2l.py:23" and cut.leaves == ("x",)
    mul = graph.nodes[1]
    assert mul.cuts == (0,)
    assert graph.leaves[0].grad.values == (0.0, 1.0, 4.0, 9.0)  # x.grad == u, as in d2l
    result = run_cli("graph", f"{script}::detached", "--at", "x=0,1,2,3")
    assert result.exit_code == 0
    assert "✂ cut by .detach() at d2l.py:23 (u = y.detach())" in result.stdout
    assert "(cut by .detach())" in result.stdout  # the saved tensor is the detached one


def test_a_leaf_cut_off_by_no_grad_is_marked_and_exits_1(script, run_cli):
    graph = script_graph(f"{script}::starved", ["x=1,2", "w=3,4"])
    assert [leaf.name for leaf in graph.starved_leaves] == ["w"]
    assert graph.cuts[0].kind == "no_grad" and graph.cuts[0].code == "scale = w * 2"
    result = run_cli("graph", f"{script}::starved", "--at", "x=1,2", "--at", "w=3,4")
    assert result.exit_code == 1
    assert "✗ none: cut by torch.no_grad() at d2l.py:30" in result.stdout
    assert "1 leaf tensor that requires grad received no gradient: w" in result.stdout


def test_twenty_layer_mlp_renders_folded(script, run_cli):
    graph = script_graph(f"{script}::MLP")
    assert len(graph.nodes) == 140
    assert len(graph.leaves) == 1 + 2 * 20  # the input and every weight and bias
    assert all(leaf.grad is not None for leaf in graph.leaves)
    view = build_view(graph)
    assert view.total == 140 and view.folded == 119 and view.shown == 21
    result = run_cli("graph", f"{script}::MLP")
    assert result.exit_code == 0, result.stderr
    assert "⋯ 17 more × [ViewBackward0 → ReluBackward0 →" in result.stdout
    assert "(119 nodes folded)" in result.stdout
    assert "140 nodes, 21 shown, 119 folded (repeats)" in result.stdout
    assert "… 25 more" in result.stdout  # the leaves table is shortened too
    assert max(len(line) for line in result.stdout.splitlines()) <= 120


def test_view_group_renders_without_a_terminal(script):
    from rich.console import Console

    graph = script_graph(f"{script}::MLP")
    console = Console(width=100, record=True, color_system=None)
    console.print(view_group(graph, build_view(graph, depth=4)))
    text = console.export_text()
    assert "below (raise --depth to see them)" in text
    assert "below --depth 4" in text


def test_script_errors_are_one_line(script, run_cli, tmp_path):
    result = run_cli("graph", f"{script}::nope")
    assert result.exit_code == 2 and "nope" in result.stderr
    result = run_cli("graph", str(tmp_path / "missing.py") + "::f")
    assert result.exit_code == 2 and "no such file" in result.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("def f(x):\n    return x.nonexistent()\n", encoding="utf-8")
    result = run_cli("graph", f"{broken}::f")
    assert result.exit_code == 1
    assert "raised AttributeError" in result.stderr
    assert "Traceback" not in result.stderr
