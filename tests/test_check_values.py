"""gradx check for a learner: --values (inputs and gradients, shaped), which inputs a target
rejected and how to set them, the per-target time in the progress line, a shorter limit."""

from __future__ import annotations

import io
import json
import textwrap

import pytest
from rich.console import Console

from gradx.commands.check.runner import DEFAULT_TIMEOUT
from gradx.render.check_report import CheckProgress

SCRIPT = textwrap.dedent(
    """
    import torch


    def d2l_loop(a):
        b = a * 2
        while b.norm() < 1000:
            b = b * 2
        if b.sum() > 0:
            c = b
        else:
            c = 100 * b
        return c


    def example_d2l_loop():
        return torch.tensor(0.7)


    def squares(w):
        return (w * w).sum()


    def example_squares():
        return torch.tensor([[1.0, 2.0], [3.0, 4.0]])


    def matvec(w, x):
        return torch.mv(w, x)
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "learner.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.mark.slow
def test_values_and_the_inputs_a_target_rejected(run_cli, script, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("check", str(script), "--values")
    assert result.exit_code == 1  # matvec cannot run on scalars
    out = result.stdout
    lines = [line.split() for line in out.splitlines()]
    # d2l: a = 0.7 is doubled 11 times before the norm reaches 1000: the gradient is 2**11
    assert ["a", "0.7", "2048"] in lines
    assert ["w", "[[1,", "2],", "[[2,", "4],"] in lines  # a matrix, one row per line
    assert ["[3,", "4]]", "[6,", "8]]"] in lines
    assert (
        "gradx tried random inputs of the shapes (5,), (2, 3), () in turn (the last: w () (a "
        "scalar), x () (a scalar)); if matvec needs other shapes, give them (--shape, as in --shape w=3,4 --shape x=3, or --at) or define "
        "example_matvec() in the file returning the inputs"
    ) in " ".join(out.split())  # a long line, wrapped
    document = json.loads(run_cli("check", str(script), "--json").stdout)
    targets = {t["name"]: t for t in document["targets"]}
    assert targets["squares"]["values"] == [
        {
            "name": "w",
            "shape": [2, 2],
            "values": [1.0, 2.0, 3.0, 4.0],
            "grad": [2.0, 4.0, 6.0, 8.0],
            "grad_of_sum": False,
        }
    ]
    assert targets["matvec"]["error"]["inputs_hint"].startswith(
        "gradx tried random inputs of the shapes (5,), (2, 3), () in turn (the last: w ()"
    )
    assert document["settings"]["timeout"] == DEFAULT_TIMEOUT == 20.0


@pytest.mark.slow
def test_without_values_the_report_shows_none(run_cli, script, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("check", f"{script}::squares")
    assert result.exit_code == 0
    assert "squares values" not in result.stdout and "[[2, 4]" not in result.stdout


def test_the_progress_line_shows_the_targets_time_against_its_limit():
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = CheckProgress(console, timeout=20.0)
    progress(("start", 0, 2, "d2l_loop"))
    assert progress.describe(12.4) == "checking d2l_loop 12 s of 20 s"
    progress(("done", 0, 2, None))
    progress(("start", 1, 2, "squares"))
    assert progress.describe(0.2) == "checking squares 0 s of 20 s"
    progress(("done", 1, 2, None))
    assert progress.describe(3.0) == "done"
    progress.__exit__(None, None, None)
