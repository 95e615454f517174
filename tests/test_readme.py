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


def test_readme_quick_start_has_exactly_the_two_commands_ci_runs():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    assert quick.strip().splitlines() == ['pip install -e ".[dev]"', "pytest"]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet -e ".[dev]"' in ci
    assert "\npytest\n" in ci
