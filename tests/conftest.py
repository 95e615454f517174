"""Shared fixtures: a clean environment for rendering and a CLI runner."""

from __future__ import annotations

import os

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
