"""``gradx eval --plot``: the terminal picture (golden, fixed width) and the refusals.

To accept new output after a deliberate change:
``GRADX_UPDATE_GOLDEN=1 pytest tests/test_plot_terminal.py`` (changed cases fail once, having
rewritten their files), review the diff of tests/golden/, and run again without it.
"""

from __future__ import annotations

import math

import pytest

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, PreparedEvaluation
from gradx.commands.eval.plot_data import LinePlot, collect_plot, plot_point_count
from gradx.render.eval_plot_terminal import curve_label, render_line_plot


def line_plot(expression: str, *ranges: str, order: int = 1, at: tuple[str, ...] = ()) -> LinePlot:
    request = EvalRequest.from_cli(expression=expression, ranges=ranges, order=order, at=at)
    plot = collect_plot(request, PreparedEvaluation(request))
    assert isinstance(plot, LinePlot)
    return plot


@pytest.mark.parametrize(
    ("name", "expression", "range_", "order"),
    [
        ("plot_sin", "sin(x)", "-6.28:6.28", 1),
        ("plot_abs_kink", "abs(x)", "-1:1", 1),
        ("plot_sqrt_domain_order2", "sqrt(x)", "-1:1", 2),
    ],
)
def test_terminal_plot_matches_golden_at_fixed_width(golden, name, expression, range_, order):
    text = render_line_plot(line_plot(expression, range_, order=order), width=90, colorless=True)
    assert all(len(line) <= 90 for line in text.splitlines())
    golden(name, text + "\n")


def test_plot_samples_densely_and_keeps_every_table_point():
    plot = line_plot("abs(x)", "-1:1")
    xs = plot.panels[0].curves[0].x
    assert plot.points == len(xs) == plot_point_count(13) >= 400
    table = [-1 + 2 * i / 12 for i in range(13)]
    assert all(any(abs(x - t) < 1e-15 for x in xs) for t in table)
    assert plot_point_count(1000) == 1000
    assert plot_point_count(10**6) == 4001


def test_kink_is_marked_and_described():
    plot = line_plot("abs(x)", "-1:1")
    kinds = {marks.kind for panel in plot.panels for marks in panel.marks}
    assert kinds == {"kink"}
    assert plot.notes and plot.notes[0].at == (("x", 0.0),)
    assert plot.notes[0].status is Status.NONDIFFERENTIABLE
    text = render_line_plot(plot, width=80, colorless=True)
    assert "◆" in text and "kink" in text
    assert "x = 0: nondifferentiable — kink: left derivative -1, right derivative 1" in text


def test_mismatch_shows_the_references_where_they_differ():
    plot = line_plot("relu(x) - relu(-x)", "-2:2")
    derivative = plot.panels[1]
    sources = {curve.source: curve for curve in derivative.curves}
    assert set(sources) == {"autograd", "symbolic", "numeric"}
    symbolic = sources["symbolic"]
    differing = [x for x, y in zip(symbolic.x, symbolic.y, strict=True) if not math.isnan(y)]
    assert differing == [0.0]  # only at the point where torch's convention gives 0
    assert [m.kind for m in derivative.marks] == ["mismatch"]


def test_domain_gap_is_an_interval_and_shaded():
    plot = line_plot("log(x)", "-1:1")
    assert len(plot.domain_gaps) == 1
    start, stop = plot.domain_gaps[0]
    assert start == -1 and -0.01 < stop <= 0
    text = render_line_plot(plot, width=80, colorless=True)
    assert "░" in text and "no value for -1 ≤ x ≤" in text


def test_second_order_adds_a_panel_for_f_second():
    plot = line_plot("x**3", "-1:1", order=2)
    assert [p.title for p in plot.panels] == ["f(x) = x**3", "f'(x) = 3*x**2", "f''(x) = 6*x"]


def test_one_ranged_variable_of_two_plots_both_partials():
    plot = line_plot("x*y", "x=-1:1", at=("y=2",))
    labels = [curve_label(c, "en") for c in plot.panels[1].curves]
    assert labels == ["∂f/∂x autograd", "∂f/∂y autograd"]
    assert plot.fixed == (("y", 2.0),)


def test_plot_fits_the_terminal_width(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    result = run_cli("eval", "sin(x)", "--range", "-3:3", "--plot")
    assert result.exit_code == 0, result.stderr
    assert "f'(x) = cos(x)" in result.stdout
    assert "409 points from x = -3 to 3." in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 72


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sin(x)", "--at", "x=1", "--plot"], "--plot needs a --range"),
        (["x*y", "--range", "x=0:1", "--range", "y=0:1", "--plot"], "use --save FILE.png"),
        (
            ["x*y*z", "--range", "x=0:1", "--range", "y=0:1", "--range", "z=0:1", "--plot"],
            "not 3 (x, y, z)",
        ),
        (["sin(x)", "--range", "0:1", "--plot", "--json"], "cannot share stdout with --json"),
        (["sin(x)", "--range", "0:1", "--save", "plot.gif"], "must end in .png, .svg, .pdf"),
    ],
)
def test_impossible_plots_are_refused_before_any_output(run_cli, args, message):
    result = run_cli("eval", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_a_pole_is_clipped_so_the_curve_keeps_its_shape_and_the_gap_is_worded(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("eval", "1/x", "--range", "-2:2", "--plot")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line and "┤" not in line)
    bottom = next(i for i in range(top, len(lines)) if "└┬" in lines[i])
    f_panel = "\n".join(lines[top:bottom])
    ticks = [float(line.split("┤")[0]) for line in f_panel.splitlines() if "┤" in line]
    assert max(ticks) <= 100 and min(ticks) >= -100  # not stretched by 1/x -> ±102 at 0
    assert max(ticks) - min(ticks) <= 30
    # the hyperbola spans many rows of the panel instead of a flat line
    curve_rows = [line for line in f_panel.splitlines() if any("⠁" <= c <= "⣿" for c in line)]
    assert len(curve_rows) >= 6
    assert "░ no value at x = 0 (outside the domain)" in result.stdout
    assert "0 ≤ x ≤ 0" not in result.stdout


def test_a_pole_in_a_derivative_is_clipped_to_its_bulk():
    plot = line_plot("1/x", "-2:2")
    lo, hi = plot.panels[1].ylim
    assert -200 < lo < -20 and hi < 20  # -1/x**2 reaches -10404 next to 0
    far = line_plot("exp(x)", "0:10").panels[0].ylim
    assert far[1] >= math.exp(10)  # a large value without a pole is not cut
