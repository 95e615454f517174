"""Shared fixtures: a clean environment for rendering and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

# Property tests are deterministic by default, so CI cannot fail by luck;
# HYPOTHESIS_PROFILE=explore draws fresh random examples on every run.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rendered output the same on every machine."""
    for name in (
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "TERM",
        "LANG",
        "LC_ALL",
        "LC_MESSAGES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("TERM", "dumb")


@pytest.fixture
def run_cli():
    """Invoke the gradx app in-process; returns typer's Result (.exit_code, .stdout, .stderr)."""
    from gradx.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


GOLDEN = Path(__file__).parent / "golden"


def compare_golden(path: Path, text: str, *, update: bool) -> None:
    """Assert ``text`` equals the file at ``path``; in update mode rewrite it and FAIL anyway."""
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if text == expected:
        return
    if update:
        path.write_text(text, encoding="utf-8")
        pytest.fail(
            f"rewrote tests/golden/{path.name}: review the diff, then rerun without "
            "GRADX_UPDATE_GOLDEN"
        )
    assert expected is not None, f"no tests/golden/{path.name}: write it with GRADX_UPDATE_GOLDEN=1"
    assert text == expected


@pytest.fixture
def golden():
    """``golden(name, text)``: assert ``text`` equals tests/golden/NAME.txt.

    With ``GRADX_UPDATE_GOLDEN=1`` a differing file is rewritten and the test still FAILS, so an
    update run never passes by construction: review the diff, then run again without it.
    """

    def compare(name: str, text: str) -> None:
        update = bool(os.environ.get("GRADX_UPDATE_GOLDEN"))
        compare_golden(GOLDEN / f"{name}.txt", text, update=update)

    return compare
