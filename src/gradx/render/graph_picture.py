"""``gradx graph --save FILE``: draws a laid-out ``GraphPicture`` as SVG, PNG or PDF.

SVG is written here as text (standard library only: no graphviz, no matplotlib); PNG and PDF go
through matplotlib (the ``plot`` extra), imported here only, with the Agg backend. Every box,
edge and line of text is where ``gradx.commands.graph.picture`` put it: nothing is measured or
moved here. Files are written through ``gradx.atomic_file``: a reader sees the old file or the
finished picture, never half of one.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gradx.atomic_file import atomic_write
from gradx.cjk_fonts import CJK_FONTS
from gradx.commands.graph.model import GraphPicture, PictureBox, PictureEdge
from gradx.translations import N_, translate

ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FONTS = ("DejaVu Sans Mono", "Menlo", "Consolas", "monospace")  # monospace: the widths hold
# Chinese: monospace CJK fonts first (a character two Latin cells wide, as the layout counts),
# then the CJK fonts matplotlib looks for; a viewer takes each glyph from the first that has it.
CJK_SVG_FONTS = ("Noto Sans Mono CJK SC", "Sarasa Mono SC", *CJK_FONTS)
FILL = {
    "output": "#caff70",  # torchviz's colours: the output green, leaves blue, nodes grey
    "node": "#e6e6e6",
    "leaf": "#add8e6",
    "frozen": "#f4f4f4",
    "starved": "#ffc0cb",
    "cut": "#ffd2c8",
}
BORDER = {"cut": "#c62828", "starved": "#c62828"}
INK = {
    "title": "#111111",
    "plain": "#111111",
    "dim": "#555555",
    "good": "#1b6e20",
    "alert": "#c62828",
}
EDGE = {  # colour, dash pattern, arrow head
    "input": ("#444444", None, True),
    "cut": ("#c62828", (6.0, 3.0), True),
    "lost": ("#c62828", (2.0, 3.0), True),
    "saved": ("#888888", (5.0, 4.0), False),
}
ALERT_BORDER = "#c62828"
ROUNDING = 6.0
ARROW = (8.0, 4.0)  # length and half width of an arrow head, px
PNG_SCALE = 2.0  # pixels per px of the picture, for sharp text
PNG_MAX_PIXELS = 60_000_000  # a larger picture is scaled down (the SVG stays exact)
PNG_MAX_SIDE = 30_000.0


def emit_picture(picture: GraphPicture, path: Path, lang: str = "en") -> None:
    """Write the picture, then say so on stderr in ``lang`` (as ``gradx eval --save`` does),
    and why its words are English when ``lang`` asked for Chinese no font here can draw."""
    from gradx.atomic_file import is_stdout
    from gradx.render.console import stderr_console

    save_picture(picture, path)
    if picture.lang != lang:
        notice = translate(
            "no font with Chinese glyphs found: the picture's labels stay English "
            "(install one such as Noto Sans CJK SC)",
            lang,
        )
        stderr_console().print(notice, highlight=False, markup=False)
    if not is_stdout(path):
        boxes = len(picture.boxes)
        said = translate(
            N_("wrote {path} ({count} box)") if boxes == 1 else N_("wrote {path} ({count} boxes)"),
            lang,
            path=path,
            count=boxes,
        )
        stderr_console().print(said, highlight=False, markup=False)


def save_picture(picture: GraphPicture, path: Path) -> None:
    """Write the picture to ``path``: SVG as text, PNG or PDF through matplotlib."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        text = svg_text(picture)
        with atomic_write(path) as handle:
            handle.write(text)
        return
    figure = draw_figure(picture)
    scale = min(
        PNG_SCALE,
        math.sqrt(PNG_MAX_PIXELS / max(picture.width * picture.height, 1.0)),
        PNG_MAX_SIDE / max(picture.width, picture.height, 1.0),
    )
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format=suffix[1:], dpi=72 * scale)


def svg_text(picture: GraphPicture) -> str:
    """The picture as a standalone SVG document."""
    width, height = _number(picture.width), _number(picture.height)
    names = FONTS if picture.lang == "en" else (*FONTS[:-1], *CJK_SVG_FONTS, FONTS[-1])
    fonts = ", ".join(f"'{f}'" if " " in f else f for f in names)
    title = picture.texts[0].text if picture.texts else "gradx graph"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{fonts}" '
        f'font-size="{_number(picture.font_size)}" xml:space="preserve" '
        'style="white-space: pre">',  # aligned columns of a matrix keep their spaces
        f"<title>{_xml(title)}</title>",
        "<defs>",
    ]
    for kind, (colour, _, head) in EDGE.items():
        if head:
            out.append(
                f'<marker id="head-{kind}" viewBox="0 0 10 10" refX="10" refY="5" '
                f'markerWidth="{_number(ARROW[0])}" markerHeight="{_number(ARROW[0])}" '
                f'markerUnits="userSpaceOnUse" orient="auto">'
                f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            )
    out.append("</defs>")
    out.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    out.append('<g class="edges" fill="none" stroke-width="1.2">')
    out.extend(_svg_edge(edge) for edge in picture.edges)
    out.append("</g>")
    out.append('<g class="boxes">')
    out.extend(_svg_box(box, picture) for box in picture.boxes)
    out.append("</g>")
    for text in picture.texts:
        baseline = text.y + _baseline(picture)
        out.append(
            f'<text x="{_number(text.x)}" y="{_number(baseline)}"{_text_style(text.style)}>'
            f"{_xml(text.text)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_edge(edge: PictureEdge) -> str:
    colour, dash, head = EDGE.get(edge.kind, EDGE["input"])
    dashes = f' stroke-dasharray="{_number(dash[0])} {_number(dash[1])}"' if dash else ""
    marker = f' marker-end="url(#head-{edge.kind})"' if head else ""
    return (
        f'<path class="edge {edge.kind}" data-from={quoteattr(_legal(edge.source))} '
        f'data-to={quoteattr(_legal(edge.target))} d="{_svg_path(edge.points)}" '
        f'stroke="{colour}"{dashes}{marker}/>'
    )


def _svg_path(points: tuple[tuple[float, float], ...]) -> str:
    """Straight where a segment is vertical, else an S-curve that leaves and arrives vertically."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{_number(x0)},{_number(y0)}"]
    for x1, y1 in rest:
        if x1 == x0:
            parts.append(f"L{_number(x1)},{_number(y1)}")
        else:
            mid = (y0 + y1) / 2
            parts.append(
                f"C{_number(x0)},{_number(mid)} {_number(x1)},{_number(mid)} "
                f"{_number(x1)},{_number(y1)}"
            )
        x0, y0 = x1, y1
    return " ".join(parts)


def _svg_box(box: PictureBox, picture: GraphPicture) -> str:
    fill = FILL.get(box.kind, FILL["node"])
    border = ALERT_BORDER if box.alert else BORDER.get(box.kind, "#333333")
    width = "2" if box.alert or box.kind in BORDER else "1"
    dash = ' stroke-dasharray="4 3"' if box.kind == "frozen" else ""
    parts = [
        f'<g class="box {box.kind}" id={quoteattr(_legal(box.key))}>',
        f'<rect x="{_number(box.x)}" y="{_number(box.y)}" width="{_number(box.width)}" '
        f'height="{_number(box.height)}" rx="{_number(ROUNDING)}" fill="{fill}" '
        f'stroke="{border}" stroke-width="{width}"{dash}/>',
    ]
    pad_x, pad_y = picture.padding
    for k, line in enumerate(box.lines):
        y = box.y + pad_y + k * picture.line_height + _baseline(picture)
        parts.append(
            f'<text x="{_number(box.x + pad_x)}" y="{_number(y)}"{_text_style(line.style)}>'
            f"{_xml(line.text)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _text_style(style: str) -> str:
    weight = ' font-weight="bold"' if style == "title" else ""
    return f' fill="{INK.get(style, INK["plain"])}"{weight}'


def _baseline(picture: GraphPicture) -> float:
    """From the top of a line to its baseline: the glyphs centred in the line's height."""
    return (picture.line_height + 0.7 * picture.font_size) / 2


def _xml(text: str) -> str:
    """Text as XML character data: escaped, and characters XML cannot hold replaced."""
    return escape(_legal(text))


def _legal(text: str) -> str:
    """``text`` with what XML 1.0 forbids (control characters, lone surrogates from undecodable
    file names, U+FFFE/U+FFFF) replaced by U+FFFD, so the file always parses and encodes."""
    return ILLEGAL_XML.sub("\ufffd", text)


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def draw_figure(picture: GraphPicture) -> Any:
    """A matplotlib Figure of the picture, one point per px (not shown, not saved)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path as CurvePath

    figure = Figure(figsize=(picture.width / 72, picture.height / 72), dpi=72)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, picture.width)
    axes.set_ylim(picture.height, 0)
    axes.axis("off")
    fonts = [FONTS[0], "DejaVu Sans"]  # the second has the ✂ ✎ ✗ the first may lack
    if picture.lang != "en":
        from gradx.cjk_fonts import cjk_font

        chinese = cjk_font()  # the request chose English when there was none
        fonts += [chinese] if chinese is not None else []
    for edge in picture.edges:
        colour, dash, head = EDGE.get(edge.kind, EDGE["input"])
        vertices, codes = _curve(edge.points, CurvePath)
        axes.add_patch(
            PathPatch(
                CurvePath(vertices, codes),
                fill=False,
                edgecolor=colour,
                linewidth=1.2,
                linestyle=(0, dash) if dash else "solid",
            )
        )
        if head:
            x, y = edge.points[-1]
            length, half = ARROW
            triangle = [(x, y), (x - half, y - length), (x + half, y - length)]
            axes.add_patch(Polygon(triangle, closed=True, facecolor=colour, edgecolor="none"))
    pad_x, pad_y = picture.padding
    for box in picture.boxes:
        border = ALERT_BORDER if box.alert else BORDER.get(box.kind, "#333333")
        axes.add_patch(
            FancyBboxPatch(
                (box.x, box.y),
                box.width,
                box.height,
                boxstyle=f"round,pad=0,rounding_size={ROUNDING}",
                facecolor=FILL.get(box.kind, FILL["node"]),
                edgecolor=border,
                linewidth=2.0 if box.alert or box.kind in BORDER else 1.0,
                linestyle=(0, (4, 3)) if box.kind == "frozen" else "solid",
            )
        )
        for k, line in enumerate(box.lines):
            _text(axes, box.x + pad_x, box.y + pad_y + k * picture.line_height, line.text,
                  line.style, picture, fonts)  # fmt: skip
    for text in picture.texts:
        _text(axes, text.x, text.y, text.text, text.style, picture, fonts)
    return figure


def _text(axes: Any, x: float, top: float, text: str, style: str, picture: GraphPicture,
          fonts: list[str]) -> None:  # fmt: skip
    axes.text(
        x,
        top + _baseline(picture),
        text,
        fontsize=picture.font_size,
        family=fonts,
        color=INK.get(style, INK["plain"]),
        weight="bold" if style == "title" else "normal",
        va="baseline",
        ha="left",
        parse_math=False,  # a $ in a file's code line is a dollar sign, not TeX
    )


def _curve(points: tuple[tuple[float, float], ...], path_type: Any) -> tuple[list, list]:
    """The same curve as ``_svg_path``, as matplotlib path vertices and codes."""
    vertices = [points[0]]
    codes = [path_type.MOVETO]
    x0, y0 = points[0]
    for x1, y1 in points[1:]:
        if x1 == x0:
            vertices.append((x1, y1))
            codes.append(path_type.LINETO)
        else:
            mid = (y0 + y1) / 2
            vertices += [(x0, mid), (x1, mid), (x1, y1)]
            codes += [path_type.CURVE4] * 3
        x0, y0 = x1, y1
    return vertices, codes
