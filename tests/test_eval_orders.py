"""``--order K`` shows every derivative up to K, and ``--overlay`` draws f and f' together."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET


def test_order_2_of_one_variable_shows_f_prime_and_f_second_a_row_each(run_cli):
    result = run_cli("eval", "x**3", "--at", "2", "--order", "2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "f'(x) = 3·x²" in lines and "f''(x) = 6·x" in lines
    rows = [line.split() for line in lines if line.split()[:1] in (["2"], ["f''"])]
    assert rows[0][:3] == ["2", "8", "f'"] and rows[0][3:6] == ["12", "12", "12"]
    assert rows[1][:4] == ["f''", "12", "12", "12"]


def test_a_kink_of_f_prime_leaves_f_prime_ok_and_f_second_nondifferentiable(run_cli):
    result = run_cli("eval", "x*abs(x)", "--at", "0", "--order", "2", "--json")
    point = json.loads(result.stdout)["points"][0]
    assert point["statuses"] == {"x": "ok", "x,x": "nondifferentiable"}


def test_one_cause_for_two_derivatives_is_said_once(run_cli):
    result = run_cli("eval", "abs(x)", "--at", "0", "--order", "2")
    assert result.stdout.count("kink: left derivative -1, right derivative 1") == 1
    assert "f', f'': kink" in result.stdout


def test_overlay_draws_f_and_f_prime_in_one_panel(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("eval", "sin(x)", "--range", "-3:3", "--plot", "--overlay")
    assert result.exit_code == 0
    picture = result.stdout.split("worst error 0\n", 1)[1]
    assert picture.count("└┬") == 1  # one panel, one x axis
    assert "f(x) = sin(x); f'(x) = cos(x)" in picture
    assert "f'" in picture and " f " in picture  # both in the legend


def test_overlay_in_a_file_has_every_curve_on_one_axes(run_cli, tmp_path):
    target = tmp_path / "sin.svg"
    result = run_cli(
        "eval", "sin(x)", "--range", "-3:3", "--order", "2", "--overlay", "--save", str(target)
    )
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    for label in ("<!-- f -->", "<!-- f' autograd -->", "<!-- f'' autograd -->"):
        assert label in text
    root = ET.parse(target).getroot()
    axes = [
        g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("id", "").startswith("axes_")
    ]
    assert len(axes) == 1


def test_overlay_without_a_plot_is_refused(run_cli):
    result = run_cli("eval", "sin(x)", "--range", "-3:3", "--overlay")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --overlay draws a plot: add --plot (terminal) or --save FILE.png"
    ]
