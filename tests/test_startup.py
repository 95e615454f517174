"""Start-up: --help imports neither torch nor sympy; the installed command really runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
from gradx.cli import app
try:
    app({args!r}, prog_name="gradx")
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "sympy") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


def run_probe(args):
    code = PROBE.format(args=args)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return done.stdout.rsplit("HEAVY:", 1)[1].strip()


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["--version"]])
def test_help_imports_neither_torch_nor_sympy(args):
    assert run_probe(args) == ""


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "sin(x)", "--range", "0:1", "--save", "out.jpg"],
        ["eval", "sin(x)", "--range", "0:1", "--plot", "--json"],
        ["eval", "sin(x)", "--range", "0:1", "--overlay"],
        ["eval", "sin(x)", "--at", "1", "--csv", "/no/such/folder/rows.csv"],
        ["eval", "sin(x", "--at", "1"],
        ["eval", "sin(x)", "--at", "1", "--dtype", "float16"],
    ],
    ids=["save-jpg", "plot-json", "overlay-alone", "csv-folder", "syntax", "dtype"],
)
def test_unusable_eval_options_are_refused_before_torch_is_imported(args):
    assert run_probe(args) == ""


def test_importing_gradx_is_cheap():
    code = "import sys, gradx; print(sorted(m for m in ('torch', 'sympy', 'rich', 'typer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"


def installed_gradx() -> str:
    candidate = Path(sys.executable).parent / "gradx"
    found = str(candidate) if candidate.exists() else shutil.which("gradx")
    if not found:
        pytest.fail("the gradx command is not installed: run pip install -e '.[dev]'")
    return found


@pytest.mark.slow
def test_the_installed_command_runs_the_readme_example():
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [installed_gradx(), "eval", "sin(x)", "--range", "-6.28:6.28"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "13 points: 13 ok" in done.stdout
    assert done.stderr == ""


def test_the_installed_command_refuses_code_injection(tmp_path):
    marker = tmp_path / "pwned"
    done = subprocess.run(
        [installed_gradx(), "eval", f"__import__('os').system('touch {marker}')", "--at", "x=1"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert not marker.exists()
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 3  # the message, the expression, the caret


def test_python_dash_m_gradx_works():
    done = subprocess.run(
        [sys.executable, "-m", "gradx", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("gradx ")


@pytest.mark.slow
def test_a_closed_pipe_stops_quietly_with_the_sigpipe_status():
    # `gradx eval ... --all | head -1`: the reader leaves early; no traceback, no "mismatch" code
    reader = subprocess.Popen(["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(
        [installed_gradx(), "eval", "sin(x)", "--range", "0:1", "--steps", "20000", "--all"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    reader.stdin.close()
    reader.wait(timeout=30)
    assert writer.returncode == 141
    assert "Traceback" not in writer.stderr and "internal error" not in writer.stderr
