"""The README's ``gradx check`` example prints what the README shows (timings aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```console\n\$ (gradx check .*?)\n(.*?)```", re.DOTALL)
SECONDS = re.compile(r"\(\d+\.\d s\)")


def examples():
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_a_check_example():
    assert examples()


@pytest.mark.slow
@pytest.mark.parametrize(("command", "shown"), examples(), ids=lambda v: v[:50])
def test_readme_check_example_prints_what_it_shows(run_cli, monkeypatch, command, shown):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(ROOT)
    result = run_cli(*shlex.split(command)[1:])
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert SECONDS.sub("(… s)", printed.strip("\n")) == SECONDS.sub("(… s)", shown.strip("\n"))
