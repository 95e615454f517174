"""``gradx eval --save``: PNG, SVG and PDF files through matplotlib, written atomically."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"


def test_png_is_a_valid_image_of_sane_size(run_cli, tmp_path):
    from PIL import Image

    target = tmp_path / "sin.png"
    result = run_cli("eval", "sin(x)", "--range", "-6.28:6.28", "--save", str(target))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {target}" in result.stderr
    with Image.open(target) as image:
        image.verify()
    with Image.open(target) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert 600 <= width <= 2000 and 500 <= height <= 3000
    assert 5_000 < target.stat().st_size < 2_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["sin.png"]  # no temporary file left


def path_width(d: str) -> float:
    """The horizontal extent of an SVG path (in user units)."""
    numbers = [float(t) for t in d.replace("M", " ").replace("L", " ").replace("z", " ").split()]
    xs = numbers[0::2]
    return max(xs) - min(xs) if xs else 0.0


def test_svg_has_a_curve_and_legend_entry_for_each_series(run_cli, tmp_path):
    target = tmp_path / "relu.svg"
    result = run_cli(
        "eval", "relu(x) - relu(-x)", "--range", "-2:2", "--order", "2", "--save", str(target)
    )
    # f is x, but autograd's f' at 0 is relu'(0) + relu'(0) = 0: a mismatch, in the table too
    assert result.exit_code == 1, result.stderr
    root = ET.parse(target).getroot()
    assert root.tag == f"{SVG}svg"
    curves = [
        p
        for p in root.iter(f"{SVG}path")
        if "stroke-width: 1.6" in p.get("style", "") and path_width(p.get("d", "")) > 300
    ]
    assert len(curves) >= 3  # f, f' autograd and f'' autograd, across the whole x range
    # matplotlib writes each text (legend labels included) as an SVG comment before its glyphs.
    text = target.read_text(encoding="utf-8")
    for label in ("f' autograd", "f' symbolic", "f' numeric", "f'' autograd", "mismatch"):
        assert f"<!-- {label} -->" in text, label


def test_two_variables_draw_a_heatmap_with_gradient_arrows(run_cli, tmp_path):
    target = tmp_path / "bowl.svg"
    result = run_cli(
        "eval", "x**2 + y**2", "--range", "x=-1:1", "--range", "y=-1:1", "--save", str(target)
    )
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert "<!-- gradient ∇f (autograd) -->" in text
    root = ET.parse(target).getroot()
    groups = {g.get("id", "") for g in root.iter(f"{SVG}g")}
    assert {"QuadMesh_1", "QuadContourSet_1", "Quiver_1"} <= groups  # heatmap, contours, arrows
    arrows = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "Quiver_1")
    assert len(list(arrows.iter(f"{SVG}path"))) >= 17 * 17 - 1  # the centre has no arrow


def test_pdf_is_written(run_cli, tmp_path):
    target = tmp_path / "exp.pdf"
    result = run_cli("eval", "exp(x)", "--range", "0:1", "--save", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(b"%PDF-")


def test_save_into_a_missing_folder_is_refused_before_any_output(run_cli, tmp_path):
    target = tmp_path / "nowhere" / "plot.png"
    result = run_cli("eval", "sin(x)", "--range", "0:1", "--save", str(target))
    assert result.exit_code == 2
    assert "folder" in result.stderr and "does not exist" in result.stderr
    assert result.stdout == ""


def test_missing_matplotlib_gives_one_line_and_exit_2(run_cli, tmp_path, monkeypatch):
    import sys

    # None in sys.modules is how Python marks a module as absent: import and find_spec fail
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run_cli("eval", "sin(x)", "--range", "0:1", "--save", str(tmp_path / "a.png"))
    assert result.exit_code == 2
    assert "--save needs matplotlib" in result.stderr
    assert "pip install 'gradx[plot]'" in result.stderr
    assert not (tmp_path / "a.png").exists()
