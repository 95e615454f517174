"""``gradx graph --save FILE --lang zh``: the picture's words in Chinese, laid out for their width;
English pictures unchanged; a PNG without a Chinese font drawn in English, and said so."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import GOLDEN
from gradx import cjk_fonts
from gradx.commands.graph.command import GraphOutput, GraphRequest
from gradx.commands.graph.model import GraphPicture
from gradx.commands.graph.picture import CHAR_WIDTH, graph_picture
from gradx.commands.graph.sources import expression_graph

SVG = "{http://www.w3.org/2000/svg}"
SCRIPTS = Path(__file__).parent / "check_scripts"


def saved_svg(run_cli, tmp_path: Path, *args: str, exit_code: int = 0):
    target = tmp_path / "graph.svg"
    result = run_cli("graph", *args, "--save", str(target))
    assert result.exit_code == exit_code, result.output
    return result, ET.fromstring(target.read_text(encoding="utf-8"))  # valid XML, or it raises


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def test_a_chinese_picture_says_what_the_chinese_tree_says(run_cli, tmp_path):
    script = SCRIPTS / "detach_bugs.py"
    result, root = saved_svg(
        run_cli, tmp_path, f"{script}::detach_bug", "--lang", "zh", exit_code=1
    )
    said = texts(root)
    assert "#2 AccumulateGrad · 叶子节点，requires_grad" in said  # the tree's own words
    assert "✂ 被 .detach() 切断" in said and "位于 detach_bugs.py:12" in said
    assert "✗ 没有梯度：被 .detach() 切断" in said
    assert "反向传播：output.backward()" in said
    assert "需要梯度却没有得到梯度的叶子节点：w" in said
    assert "红色：计算图被切断的地方，以及因此失去梯度的叶子节点" in said  # the legend
    assert "梯度无法经此流回 w" in said
    english = ("leaf, ", "✗ no gradient", "backward:", "arrows:", "saved ", "cut by")
    assert not any(word in t for t in said for word in english)
    assert "Noto Sans CJK SC" in root.get("font-family")  # the viewer's fonts draw it
    assert f"已写入 {tmp_path / 'graph.svg'}（6 个框）" in result.stderr


def test_a_chinese_box_is_laid_out_wide_enough_for_its_wide_characters():
    graph = expression_graph("x*x + sin(x)", ("x=1",))
    english, chinese = graph_picture(graph), graph_picture(graph, lang="zh")
    assert chinese.lang == "zh" and english.lang == "en"
    for picture in (english, chinese):
        for box in picture.boxes:
            widest = max(cells(line.text) for line in box.lines)
            assert widest * CHAR_WIDTH * picture.font_size <= box.width
    leaf = {b.key: b for b in chinese.boxes}["n2"]
    assert [line.text for line in leaf.lines][2:] == ["值 1", "梯度 2.5403"]
    # "叶子节点" is 4 characters but 8 cells: the box grew with it
    assert leaf.width > {b.key: b for b in english.boxes}["n2"].width


def test_a_chinese_matrix_keeps_its_columns_under_a_wide_label(run_cli, tmp_path):
    _, root = saved_svg(run_cli, tmp_path, "sum(W*W)", "--at", "W=[[1,2],[3,40]]", "--lang", "zh")
    said = texts(root)
    first = next(t for t in said if t.startswith("值 [["))
    second = said[said.index(first) + 1]
    assert first == "值 [[ 1,  2]," and second == "    [ 3, 40]]"  # 值 is two cells wide
    assert cells(first.split("[[")[0]) + 1 == second.index("[")


def test_order_k_panels_are_chinese_too(run_cli, tmp_path):
    _, root = saved_svg(run_cli, tmp_path, "x*x", "--order", "4", "--lang", "zh")
    said = "\n".join(texts(root))
    assert "0 阶：f（前向传播） · 2 个节点，2 个保存的张量" in said
    assert "create_graph=True 为每一阶构建的计算图（对 x 求导）" in said
    assert "f'' 关于 x 是常数（没有计算图）：f''' 及更高阶导数都为 0" in said
    assert "注：x = 1（未给出：可用 --at x=… 设置）" in said


def test_an_english_picture_is_unchanged(run_cli, tmp_path):
    result, root = saved_svg(run_cli, tmp_path, "x*x + sin(x)", "--at", "x=1", "--lang", "en")
    written = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert written == (GOLDEN / "graph_picture.svg").read_text(encoding="utf-8")
    assert "CJK" not in root.get("font-family")
    assert f"wrote {tmp_path / 'graph.svg'} (5 boxes)" in result.stderr


def test_a_png_without_a_chinese_font_is_laid_out_in_english(monkeypatch, tmp_path):
    monkeypatch.setattr(cjk_fonts, "cjk_font", lambda: None)
    output = GraphOutput(save=tmp_path / "g.png", lang="zh")
    picture = GraphRequest(target="x*x", at=("x=2",), output=output).run().picture
    assert isinstance(picture, GraphPicture) and picture.lang == "en"
    assert any(t.text == "backward: output.backward()" for t in picture.texts)
    # an SVG names its fonts for the viewer: it stays Chinese
    svg = GraphOutput(save=tmp_path / "g.svg", lang="zh")
    picture = GraphRequest(target="x*x", at=("x=2",), output=svg).run().picture
    assert picture is not None and picture.lang == "zh"


def test_a_png_without_a_chinese_font_stays_english_and_says_so(run_cli, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(cjk_fonts, "cjk_font", lambda: None)
    target = tmp_path / "g.png"
    result = run_cli("graph", "x*x", "--at", "x=2", "--save", str(target), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "未找到含中文字形的字体：图中文字保持英文" in result.stderr
    assert f"已写入 {target}（3 个框）" in result.stderr
    assert "反向传播" in result.stdout  # the tree is Chinese all the same


def test_a_png_with_a_chinese_font_draws_chinese_with_it(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    from gradx.render.graph_picture import draw_figure

    monkeypatch.setattr(cjk_fonts, "cjk_font", lambda: "DejaVu Sans")  # stands in for one
    output = GraphOutput(save=tmp_path / "g.png", lang="zh")
    picture = GraphRequest(target="x*x", at=("x=2",), output=output).run().picture
    assert picture is not None and picture.lang == "zh"
    figure = draw_figure(picture)
    drawn = [t for t in figure.axes[0].texts if t.get_text() == "反向传播：output.backward()"]
    assert drawn and "DejaVu Sans" in drawn[0].get_fontfamily()
