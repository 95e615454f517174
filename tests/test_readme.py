"""The README tells the truth: its ``gradx eval`` examples print exactly what it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```console\n\$ (gradx eval .*?)\n(.*?)```", re.DOTALL)


def examples():
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_eval_examples():
    assert len(examples()) >= 3


@pytest.mark.parametrize(
    ("command", "shown"), examples(), ids=lambda v: v[:40] if isinstance(v, str) else v
)
def test_readme_example_prints_what_the_readme_shows(run_cli, monkeypatch, command, shown):
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli(*shlex.split(command)[1:])
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert printed.strip("\n") == shown.strip("\n")


def test_readme_quick_start_has_the_cpu_torch_step_and_the_two_commands_ci_runs():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert quick.strip().splitlines() == [
        "pip install torch --index-url https://download.pytorch.org/whl/cpu",
        'pip install -e ".[dev]"',
        "pytest",
    ]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    # CI, too, installs a CPU torch before the project, then runs the whole suite.
    assert ci.index("pip install --quiet torch") < ci.index('pip install --quiet -e ".[dev]"')
    assert "\npytest\n" in ci


def test_readme_names_the_uv_steps_and_the_fast_tier_the_markers_define():
    text = README.read_text(encoding="utf-8")
    assert "uv pip install torch --index-url https://download.pytorch.org/whl/cpu" in text
    assert 'pytest -m "not slow"' in text
    pyproject = (README.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"slow:' in pyproject
