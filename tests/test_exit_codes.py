"""Exit statuses have one home: ExitCode in gradx.errors, used by the CLI for every command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gradx.errors import ExitCode

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gradx"


def test_the_table():
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "INTERRUPTED": 130,
        "BROKEN_PIPE": 141,
    }
    assert ExitCode.for_outcome(True) is ExitCode.OK
    assert ExitCode.for_outcome(False) is ExitCode.FAILED
    assert ExitCode.for_outcome(True, complete=False) is ExitCode.FAILED
    assert ExitCode.for_outcome(False, complete=False) is ExitCode.FAILED


def test_no_exit_status_is_a_bare_number():
    calls = {"Exit", "exit", "SystemExit", "_exit"}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py":  # the table itself
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name in calls:
                first = node.args[0]
                assert not (isinstance(first, ast.Constant) and isinstance(first.value, int)), (
                    f"{path.name}:{node.lineno}: exit status {first.value} outside ExitCode"
                )


@pytest.mark.parametrize(
    ("error", "code"),
    [(KeyboardInterrupt, ExitCode.INTERRUPTED), (BrokenPipeError, ExitCode.BROKEN_PIPE)],
)
def test_interrupts_and_closed_pipes_exit_with_their_status(run_cli, monkeypatch, error, code):
    from gradx.commands.eval.pipeline import PreparedEvaluation

    def interrupted(self, **options):
        raise error

    monkeypatch.setattr(PreparedEvaluation, "run", interrupted)
    result = run_cli("eval", "sin(x)", "--at", "1")
    assert result.exit_code == code
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("eval", "relu(x) - relu(-x)", "--at", "0"), ExitCode.FAILED),
        (("eval", "sin(x)", "--at", "1"), ExitCode.OK),
        (("eval", "x^x^x^x", "--at", "1.5", "--order", "6"), ExitCode.FAILED),
        (("explain-error", "backward-twice"), ExitCode.OK),
        (("explain-error", "ValueError: not autograd"), ExitCode.FAILED),
        (("explain-error", "--list"), ExitCode.OK),
        (("graph", "2*x*x", "--at", "1"), ExitCode.OK),
        (("eval", "x", "--at", "1", "--order", "0"), ExitCode.USAGE),
    ],
)
def test_each_command_maps_its_verdict_through_the_table(run_cli, args, code):
    assert run_cli(*args).exit_code == code
