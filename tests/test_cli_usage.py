"""Bad usage of the command line itself is one red line and exit 2, like every unusable input."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["-h"], "error: no such option: -h (see gradx --help)"),
        (["version"], "error: no such command 'version'; did you mean gradx --version?"),
        (["grph"], "error: no such command 'grph'; did you mean 'graph'?"),
        (["eval", "--nope", "x"], "error: no such option: --nope (see gradx eval --help)"),
        (["eval", "--jsn", "x"], "error: no such option: --jsn; did you mean --csv or --json?"),
        (["eval"], "error: missing argument 'EXPRESSION' (see gradx eval --help)"),
        (["graph", "x", "--depth"], "error: option '--depth' requires an argument"),
        (
            ["explain-error", "--nope"],
            "error: no such option: --nope (see gradx explain-error --help)",
        ),
    ],
)
def test_unknown_options_and_commands_are_one_red_line_and_exit_2(run_cli, args, line):
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]
    assert "╭" not in result.stderr and "Usage:" not in result.stderr


def test_a_bad_option_value_is_one_line_too(run_cli):
    result = run_cli("check", "--order", "two", "f.py")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: invalid value for '--order'")
    assert line.endswith("(see gradx check --help)")


@pytest.mark.parametrize("command", [[], ["eval"], ["check"], ["explain-error"], ["graph"]])
def test_help_still_works_and_exits_0(run_cli, command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: gradx" in result.stdout
    assert result.stderr == ""


def test_bare_gradx_prints_the_help(run_cli):
    result = run_cli()
    assert "Usage: gradx" in result.stdout + result.stderr
    assert not (result.stdout + result.stderr).startswith("error:")


def test_flags_show_no_value_in_help_and_brackets_survive(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    shown = run_cli("eval", "--help").stdout
    assert "<bool>" not in shown
    json_row = next(line for line in shown.splitlines() if "--json" in line)
    assert json_row.split("--json", 1)[1].split()[0] == "Print"
    assert "needs matplotlib: gradx[plot]" in shown
    assert "<bool>" not in run_cli("graph", "--help").stdout
    assert "<bool>" not in run_cli("--help").stdout


@pytest.mark.parametrize("command", ["eval", "check", "explain-error", "graph"])
def test_help_paragraphs_wrap_to_the_terminal(run_cli, monkeypatch, command: str) -> None:
    """A docstring's source line breaks do not survive into --help as stray short lines."""
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli(command, "--help")
    assert result.exit_code == 0
    description = result.stdout.split("╭")[0]
    paragraphs: list[list[str]] = [[]]
    for line in description.splitlines():
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    paragraphs = [p for p in paragraphs if p and not p[0].startswith("Usage:")]
    assert paragraphs
    for paragraph in paragraphs:
        # Every line but a paragraph's last fills most of the 80 columns.
        assert all(len(line) > 55 for line in paragraph[:-1]), paragraph
