"""``gradx graph --save FILE.svg|.png|.pdf``: a picture of the autograd graph without graphviz.

The SVG is checked as a learner's browser would read it (XML, every node's name, the marks the
tree shows), against a golden file for a small graph; PNG and PDF through matplotlib; bad paths
are refused with one line and exit 2, before torch is imported; a failed write leaves the old
file as it was.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import GOLDEN, compare_golden
from gradx.commands.graph.model import (
    AutogradGraph,
    Cut,
    GraphNode,
    GraphPicture,
    Leaf,
    TensorInfo,
)
from gradx.commands.graph.orders import derivative_graphs
from gradx.commands.graph.picture import graph_picture, orders_picture
from gradx.commands.graph.sources import expression_graph
from gradx.render.graph_picture import svg_text

SVG = "{http://www.w3.org/2000/svg}"
SCRIPTS = Path(__file__).parent / "check_scripts"
DATA_WRITE = textwrap.dedent(
    """
    import torch


    def f(x, w):
        y = x * 2
        z = torch.mm(w, y.reshape(4, 1))  # saves y for the gradient of w
        y.data -= 1
        return z.sum()


    def example_f():
        return torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.ones(1, 4)
    """
)


def svg_of(run_cli, tmp_path: Path, *args: str, exit_code: int = 0) -> ET.Element:
    target = tmp_path / "graph.svg"
    result = run_cli("graph", *args, "--save", str(target))
    assert result.exit_code == exit_code, result.output
    return ET.fromstring(target.read_text(encoding="utf-8"))


def box_texts(root: ET.Element) -> dict[str, list[str]]:
    """Each box's id and its lines of text, as the SVG holds them."""
    return {
        g.get("id"): [t.text or "" for t in g.iter(f"{SVG}text")]
        for g in root.iter(f"{SVG}g")
        if (g.get("class") or "").startswith("box ")
    }


def edges_of(root: ET.Element) -> list[tuple[str, str, str]]:
    return [
        (p.get("data-from"), p.get("data-to"), p.get("class").split()[1])
        for p in root.iter(f"{SVG}path")
        if (p.get("class") or "").startswith("edge ")
    ]


def all_text(root: ET.Element) -> str:
    return "\n".join(t.text or "" for t in root.iter(f"{SVG}text"))


def assert_laid_out(picture: GraphPicture) -> None:
    """No two boxes overlap; every edge goes from a box to one in a lower layer, downwards."""
    boxes = {b.key: b for b in picture.boxes}
    assert len(boxes) == len(picture.boxes)
    items = list(picture.boxes)
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            apart = (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )
            assert apart, (a.key, b.key)
        assert 0 <= a.x and a.x + a.width <= picture.width and a.y + a.height <= picture.height
    for edge in picture.edges:
        upper, lower = boxes[edge.source], boxes[edge.target]
        assert upper.layer < lower.layer and upper.y + upper.height <= lower.y
        ys = [y for _, y in edge.points]
        assert ys == sorted(ys)


def test_the_svg_of_a_small_graph_matches_its_golden_file(run_cli, tmp_path):
    target = tmp_path / "graph.svg"
    result = run_cli("graph", "x*x + sin(x)", "--at", "x=1", "--save", str(target))
    assert result.exit_code == 0
    update = bool(os.environ.get("GRADX_UPDATE_GOLDEN"))
    compare_golden(GOLDEN / "graph_picture.svg", target.read_text(encoding="utf-8"), update=update)


def test_the_svg_shows_what_the_tree_shows(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "x*x + sin(x)", "--at", "x=1")
    assert root.tag == f"{SVG}svg"
    boxes = box_texts(root)
    text = all_text(root)
    for name in ("AddBackward0", "MulBackward0", "SinBackward0", "AccumulateGrad"):
        assert name in text
    assert boxes["output"] == ["output () float64", "= 1.84147", "grad_fn=AddBackward0"]
    assert boxes["n1"] == [
        "#1 MulBackward0",
        "→ () float64",
        "saved other: x ()",
        "saved self: x ()",
    ]
    assert boxes["n2"] == [
        "x () float64",
        "#2 AccumulateGrad · leaf, requires_grad",
        "value 1",
        "grad 2.5403",
    ]
    assert "backward: output.backward()" in text


def test_a_shared_node_is_drawn_once_with_an_edge_from_each_use(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "x*x + sin(x)", "--at", "x=1")
    leaf_boxes = [key for key, lines in box_texts(root).items() if lines[0].startswith("x ")]
    assert leaf_boxes == ["n2"]
    into_x = sorted(source for source, target, _ in edges_of(root) if target == "n2")
    assert into_x == ["n1", "n1", "n3"]  # x*x uses x twice, sin(x) once


def test_cuts_and_the_leaves_they_starve_are_marked(run_cli, tmp_path):
    script = SCRIPTS / "detach_bugs.py"
    root = svg_of(run_cli, tmp_path, f"{script}::detach_bug", exit_code=1)
    boxes = box_texts(root)
    (cut,) = [lines for key, lines in boxes.items() if key.startswith("cut")]
    assert cut[0] == "✂ cut by .detach()" and cut[1] == "at detach_bugs.py:12"
    assert boxes["leaf:w"][-1] == "✗ no gradient: cut by .detach()"
    kinds = {(source, target): kind for source, target, kind in edges_of(root)}
    assert kinds[("n1", "cut0")] == "cut" and kinds[("cut0", "leaf:w")] == "lost"
    assert "leaves that require grad but received no gradient: w" in all_text(root)


def test_a_matrix_is_drawn_one_row_per_line_with_its_columns_aligned(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "a*a", "--at", "a=[[1,2],[3,40]]")
    assert box_texts(root)["n1"][2:] == [
        "value [[ 1,  2],",
        "       [ 3, 40]]",
        "grad [[ 2,  4],",
        "      [ 6, 80]]",
    ]
    assert root.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"


def test_a_frozen_leaf_is_drawn_dashed_beside_the_node_that_saved_it(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "x*y + sin(x)", "--at", "x=1,y=2", "--frozen", "y")
    boxes = box_texts(root)
    assert boxes["leaf:y"] == ["y () float64", "leaf, requires_grad=False (frozen)", "value 2"]
    assert ("n1", "leaf:y", "saved") in edges_of(root)
    frozen = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "leaf:y")
    assert frozen.get("class") == "box frozen"


def test_a_data_write_to_a_saved_tensor_is_marked_on_its_node(run_cli, tmp_path):
    script = tmp_path / "seed.py"
    script.write_text(DATA_WRITE, encoding="utf-8")
    root = svg_of(run_cli, tmp_path, f"{script}::f", exit_code=1)
    marked = [
        (g.get("id"), [t.text for t in g.iter(f"{SVG}text")])
        for g in root.iter(f"{SVG}g")
        if (g.get("class") or "").startswith("box ")
        and any((t.text or "").startswith("✎") for t in g.iter(f"{SVG}text"))
    ]
    assert len(marked) == 1
    key, lines = marked[0]
    assert lines[0].endswith("MmBackward0") and "✎ changed through .data at seed.py:8" in lines
    rect = next(g for g in root.iter(f"{SVG}g") if g.get("id") == key).find(f"{SVG}rect")
    assert rect.get("stroke") == "#c62828"  # the alert border


def test_the_layout_of_a_real_graph_has_no_overlaps_and_is_deterministic():
    graph = expression_graph("tanh(x*w + b) * exp(-x) + x*x*w", ["x=0.5,1", "w=2", "b=0.1"])
    picture = graph_picture(graph)
    assert_laid_out(picture)
    assert graph_picture(graph) == picture
    assert svg_text(graph_picture(graph)) == svg_text(picture)
    assert picture.boxes[0].key == "output" and picture.boxes[0].layer == 0


def test_a_large_graph_is_still_a_valid_picture_with_a_note(tmp_path):
    expression = " + ".join(f"sin({k}*x)" for k in range(1, 121))  # 360 nodes
    picture = graph_picture(expression_graph(expression, ["x=0.5"]))
    assert_laid_out(picture)
    root = ET.fromstring(svg_text(picture))
    assert len(box_texts(root)) == len(picture.boxes) > 300
    assert "a large graph" in all_text(root)


def test_order_k_draws_one_panel_per_order_in_one_file(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "sin(x)*x", "--at", "x=1", "--order", "2")
    text = all_text(root)
    for order in range(3):
        assert f"order {order}:" in text
    keys = box_texts(root)
    assert {key.split(":")[0] for key in keys} == {"o0", "o1", "o2"}
    assert "each order's graph holds the graphs of the orders before it" in text
    assert "backward:" not in text and "grad —" not in text  # no backward ran on them
    assert keys["o1:n0"][0] == "#0 AddBackward0"  # f' = cos(x)*x + sin(x)
    assert_laid_out(orders_picture(derivative_graphs("sin(x)*x", ("x=1",), order=2)))


def test_order_k_says_where_the_chain_stopped_and_how_the_inputs_were_chosen(run_cli, tmp_path):
    root = svg_of(run_cli, tmp_path, "x*x", "--order", "4")
    text = all_text(root)
    assert "f'' is constant in x (it has no graph): f''' and above are 0" in text
    assert "note: x = 1 (not given: set it with --at x=…)" in text
    assert {key.split(":")[0] for key in box_texts(root)} == {"o0", "o1", "o2"}


def test_png_and_pdf_are_written_through_matplotlib(run_cli, tmp_path):
    pytest.importorskip("matplotlib")  # the plot extra; the dev environment has it
    for name, magic in (("g.png", b"\x89PNG\r\n\x1a\n"), ("g.pdf", b"%PDF")):
        target = tmp_path / name
        result = run_cli("graph", "x*x + sin(x)", "--at", "x=1", "--save", str(target))
        assert result.exit_code == 0, result.output
        assert target.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pdf", "g.png"]


def test_svg_needs_no_matplotlib(run_cli, tmp_path, monkeypatch):
    # None in sys.modules is how Python marks a module as absent: import and find_spec fail
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    target = tmp_path / "g.svg"
    assert run_cli("graph", "x*x", "--save", str(target)).exit_code == 0
    ET.fromstring(target.read_text(encoding="utf-8"))
    result = run_cli("graph", "x*x", "--save", str(tmp_path / "g.png"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: --save {tmp_path / 'g.png'} needs matplotlib, which is not installed: "
        "pip install 'gradx[plot]' (or save .svg, which needs nothing)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--save", "{tmp}/g.jpg"], "the file name must end in .svg, .png or .pdf"),
        (["--save", "{tmp}/g"], "the file name must end in .svg, .png or .pdf"),
        (["--save", "{tmp}/nowhere/g.svg"], "does not exist"),
        (["--save", "{tmp}/folder.svg"], "it is a folder"),
        (["--dot", "{tmp}/g.svg"], "DOT is text for graphviz"),
        (["--dot", "{tmp}/g.png"], "for a picture use --save {tmp}/g.png"),
        (["--dot", "{tmp}/g.jpg"], "for a picture use --save {tmp}/g.png"),
    ],
    ids=["jpg", "no-suffix", "missing-folder", "a-folder", "dot-svg", "dot-png", "dot-jpg"],
)
def test_unusable_picture_paths_are_one_line_and_exit_2(run_cli, tmp_path, args, message):
    (tmp_path / "folder.svg").mkdir()
    args = [a.format(tmp=tmp_path) for a in args]
    result = run_cli("graph", "x*x", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message.format(tmp=tmp_path) in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.svg"]


def test_dot_text_files_are_still_written(run_cli, tmp_path):
    for name in ("g.dot", "g.gv", "g.txt"):
        result = run_cli("graph", "x*x", "--dot", str(tmp_path / name))
        assert result.exit_code == 0
        assert (tmp_path / name).read_text().startswith("digraph autograd {")


PROBE = """
import sys
from gradx.cli import app
try:
    app({args!r}, prog_name="gradx")
except SystemExit as exit:
    print("EXIT:", exit.code)
print("HEAVY:" + ",".join(sorted(m for m in ("torch", "sympy") if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "args",
    [["graph", "x", "--save", "out.jpg"], ["graph", "x", "--dot", "out.svg"]],
    ids=["save-jpg", "dot-svg"],
)
def test_bad_picture_paths_are_refused_before_torch_is_imported(args):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True, timeout=120
    )
    assert "EXIT: 2" in done.stdout
    assert done.stdout.rsplit("HEAVY:", 1)[1].strip() == ""


def full_disk(*args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("name", ["old.svg", "old.png"])
def test_a_failed_write_leaves_the_old_picture_and_no_half_file(
    run_cli, tmp_path, monkeypatch, name
):
    if name.endswith(".png"):
        pytest.importorskip("matplotlib")
    old = tmp_path / name
    old.write_bytes(b"the old picture\n")
    monkeypatch.setattr(os, "fsync", full_disk)  # the disk fills up as the file is finished
    result = run_cli("graph", "x*x + sin(x)", "--save", str(old))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: cannot write {old}: No space left on device"
    assert old.read_bytes() == b"the old picture\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_symlink_is_followed(run_cli, tmp_path):
    real = tmp_path / "real.svg"
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real.name)
    assert run_cli("graph", "x*x", "--save", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text().startswith("<?xml")


def test_the_docs_example_writes_the_picture_it_describes(run_cli, tmp_path, monkeypatch):
    doc = (Path(__file__).parents[1] / "docs" / "plots-and-graphs.md").read_text(encoding="utf-8")
    (command,) = re.findall(r"```console\n\$ (gradx graph .*--save .*)\n```", doc)
    monkeypatch.chdir(tmp_path)
    result = run_cli(*shlex.split(command)[1:])
    assert result.exit_code == 0
    root = ET.fromstring((tmp_path / "graph.svg").read_text(encoding="utf-8"))
    boxes = box_texts(root)
    assert result.stderr == "wrote graph.svg (5 boxes)\n"
    assert boxes["n0"][0] == "#0 AddBackward0"  # as the section says
    assert [boxes["n1"][0], boxes["n3"][0]] == ["#1 MulBackward0", "#3 SinBackward0"]
    assert boxes["n2"][2:] == ["value 1", "grad 2.5403"]
    assert sorted(s for s, t, _ in edges_of(root) if t == "n2") == ["n1", "n1", "n3"]


USER_TEXT = st.text(
    st.characters() | st.sampled_from(["<", "&", "$", "\n", "\t", "\x00", "\x0c", "\udcff", "中"]),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(name=USER_TEXT, title=USER_TEXT, code=USER_TEXT, error=st.none() | USER_TEXT)
@example(name="w\udcff<&", title="a\x0cb\nc", code="y = $x$ \x00", error="one\ntwo")
def test_any_names_and_messages_give_a_valid_svg(name, title, code, error):
    # Names, file lines and error messages come from the user's code: whatever they hold
    # (markup, control characters, line breaks, lone surrogates), the SVG parses.
    scalar = TensorInfo((), "float64", (1.5,))
    graph = AutogradGraph(
        title=title,
        output=scalar,
        output_grad_fn="MulBackward0",
        root=0,
        nodes=(
            GraphNode(0, "MulBackward0", (scalar,), (), (1,), None, (0,)),
            GraphNode(1, "AccumulateGrad", (scalar,), (), (), name, ()),
        ),
        leaves=(
            Leaf(name, scalar, True, True, scalar, ()),
            Leaf(name + "2", scalar, True, False, None, (0,)),
        ),
        cuts=(Cut("detach", f"{name}.py:3", code, (name + "2",)),),
        backward="output.backward()",
        backward_error=error,
        notes=(code,),
    )
    picture = graph_picture(graph)
    assert_laid_out(picture)
    root = ET.fromstring(svg_text(picture).encode("utf-8"))
    assert (
        len(box_texts(root)) == len(picture.boxes) == 5
    )  # output, 2 nodes, the cut, the starved leaf
    for box in picture.boxes:
        assert all("\n" not in line.text for line in box.lines)


def test_a_png_draws_dollars_and_odd_characters_as_text(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    script = tmp_path / "costs.py"
    script.write_text(
        "import torch\n\n\ndef f(x, w):\n"
        "    return x * w.detach()  # costs $x^$ \x0c \u2028 here\n",
        encoding="utf-8",
    )
    target = tmp_path / "g.png"
    result = run_cli("graph", f"{script}::f", "--at", "x=1", "--at", "w=2", "--save", str(target))
    assert result.exit_code == 1  # w gets no gradient
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Traceback" not in result.output
