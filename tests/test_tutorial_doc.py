"""docs/tutorial.md tells the truth: every ``$ gradx ...`` block prints what the doc shows.

The doc's ``python file=NAME`` blocks are written to a temporary folder first, and the commands
run there at a width of 100 columns; trailing spaces are ignored.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"
FILE_BLOCK = re.compile(r"```python file=(\S+)\n(.*?)```", re.DOTALL)
COMMAND_BLOCK = re.compile(r"```console\n\$ (gradx .*?)\n(.*?)```", re.DOTALL)


def commands() -> list[tuple[str, str]]:
    return COMMAND_BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_covers_the_chapter():
    text = TUTORIAL.read_text(encoding="utf-8")
    run = [command for command, _ in commands()]
    assert any("--plot" in c for c in run)  # f and f' plot
    assert any("graph" in c and "x=0,1,2,3" in c for c in run)  # non-scalar backward
    assert any("graph" in c and "[[1,2],[3,4]]" in c for c in run)  # a matrix input
    assert any("eval" in c and "x=0,pi/2,pi" in c for c in run)  # a vector is several points
    assert any("::detached" in c for c in run)
    assert any("::f " in c for c in run)  # control flow
    assert "relu" in text and "kink" in text.lower()
    for option in ("--quotient", "--order 2", "where(", "torch.", "leaky_relu"):
        assert any(option in c for c in run), option


@pytest.mark.parametrize(("command", "shown"), commands(), ids=lambda v: v[:50])
def test_tutorial_command_prints_what_the_doc_shows(run_cli, monkeypatch, tmp_path, command, shown):
    if "::" in command:
        pytest.importorskip("gradx.user_script.inputs")  # file targets load through gradx check
    for name, body in FILE_BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli(*shlex.split(command)[1:])
    assert "Traceback" not in result.stderr
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert _timeless(printed.strip("\n")) == _timeless(shown.strip("\n"))


def _timeless(text: str) -> str:
    """Measured times (``0.62 ms``, from ``gradx graph --order``) differ on every run."""
    return re.sub(r"\b\d+\.\d+ ms\b", "<time> ms", text)


def readme_pictures() -> list[tuple[str, str]]:
    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- section: pictures -->", 1)[1].split("\n## ", 1)[0]
    return COMMAND_BLOCK.findall(section)


@pytest.mark.parametrize(("command", "shown"), readme_pictures(), ids=lambda v: v[:50])
def test_readme_pictures_example_prints_what_the_readme_shows(run_cli, monkeypatch, command, shown):
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli(*shlex.split(command)[1:])
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert printed.strip("\n") == shown.strip("\n")
