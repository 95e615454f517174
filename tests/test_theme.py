"""Renderers style by meaning; the colours live in one Theme (gradx.render.console.STYLES)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from rich.console import Console

from gradx.commands.check.model import Verdict
from gradx.commands.eval.model import Status
from gradx.render.console import STYLES, theme

RENDER = Path(__file__).resolve().parents[1] / "src" / "gradx" / "render"
COLOURS = {"red", "green", "yellow", "blue", "magenta", "cyan", "white", "black"}
NOT_RICH = {"console.py", "eval_plot_file.py", "graph_dot.py"}  # the theme; matplotlib; DOT


def test_every_verdict_and_status_has_a_style():
    assert {s.value for s in Status} <= STYLES.keys()
    assert {v.value for v in Verdict} <= STYLES.keys()


def test_no_render_module_names_a_colour():
    for path in sorted(RENDER.glob("*.py")):
        if path.name in NOT_RICH:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words = set(node.value.replace(",", " ").split())
                assert not words & COLOURS or len(words) > 3, f"{path.name}: {node.value!r}"


def test_the_theme_gives_each_meaning_its_colour():
    from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
    from gradx.render.eval_table import render_report

    report = evaluate_expression(EvalRequest("relu(x) - relu(-x)", at=("x=0", "x=1")))
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", width=100, theme=theme()
    )
    render_report(report, console)
    out = buffer.getvalue()
    assert "\x1b[1;31mmismatch" in out  # mismatch: bold red
    assert "\x1b[32mok" in out  # ok: green
