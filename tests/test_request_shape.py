"""The four commands take one request shape.

Each command's entry module has a frozen ``XRequest`` built by ``XRequest.from_cli(**options)``
(cheap checks only: no torch, no sympy), holding its output-only options in ``request.output``;
``request.run(on_event=None)`` returns reports that say ``exit_ok``; and each command body in
cli.py reads the same: build the request, run it, hand the report to its renderer, exit.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import os
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
CHECK_SCRIPT = Path(__file__).resolve().parent / "check_scripts" / "kinks.py"

# command → (its entry module, its request class, its function in cli.py)
COMMANDS = {
    "eval": ("gradx.commands.eval.pipeline", "EvalRequest", "eval_command"),
    "check": ("gradx.commands.check.command", "CheckRequest", "check_command"),
    "explain-error": ("gradx.commands.explain.command", "ExplainRequest", "explain_error"),
    "graph": ("gradx.commands.graph.command", "GraphRequest", "graph_command"),
}


def request_class(command: str) -> type:
    module, name, _ = COMMANDS[command]
    return getattr(importlib.import_module(module), name)


def report_types(command: str) -> list[type]:
    """The report types ``run`` says it returns (the members of a union)."""
    run = request_class(command).run
    returned = typing.get_type_hints(run, vars(sys.modules[run.__module__]))["return"]
    if isinstance(returned, types.UnionType) or typing.get_origin(returned) is typing.Union:
        return list(typing.get_args(returned))
    return [returned]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_a_frozen_request_with_from_cli_and_run(command):
    cls = request_class(command)
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    from_cli = inspect.signature(cls.from_cli)
    assert all(p.kind is p.KEYWORD_ONLY for p in from_cli.parameters.values()), command
    run = inspect.signature(cls.run)
    assert list(run.parameters) == ["self", "on_event"]
    assert run.parameters["on_event"].default is None
    output = {f.name: f for f in dataclasses.fields(cls)}["output"]
    output_type = typing.get_type_hints(cls)["output"]
    assert dataclasses.is_dataclass(output_type) and output_type.__dataclass_params__.frozen
    assert output.default_factory is output_type


@pytest.mark.parametrize("command", COMMANDS)
def test_every_report_says_whether_its_verdict_is_good(command):
    reports = report_types(command)
    assert reports
    for report in reports:
        assert isinstance(inspect.getattr_static(report, "exit_ok"), property), report
    if command == "eval":
        (table,) = (r for r in reports if r.__name__ == "EvalReport")
        assert isinstance(inspect.getattr_static(table, "exit_complete"), property)


PROBE = """
import sys
from gradx.errors import GradxError
{imports}
built = []
for make in ({makes},):
    try:
        built.append(type(make()).__name__)
    except GradxError as error:
        built.append("refused: " + error.message)
print("BUILT:" + "|".join(built))
print("HEAVY:" + ",".join(m for m in ("torch", "sympy") if m in sys.modules))
"""


def probe(makes: list[str]) -> tuple[list[str], str]:
    imports = "\n".join(f"from {module} import {name}" for module, name, _ in COMMANDS.values())
    code = PROBE.format(imports=imports, makes=", ".join(f"lambda: {m}" for m in makes))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    built = done.stdout.split("BUILT:", 1)[1].split("\n", 1)[0].split("|")
    heavy = done.stdout.rsplit("HEAVY:", 1)[1].strip()
    return built, heavy


def test_requests_are_built_and_refused_without_torch_or_sympy(tmp_path):
    made = [
        "EvalRequest.from_cli(expression='sin(x)', ranges=('0:1',), plot=True, csv=None)",
        f"CheckRequest.from_cli(target={str(CHECK_SCRIPT)!r}, json_out=True)",
        "ExplainRequest.from_cli(text='backward-twice', lang='en')",
        f"GraphRequest.from_cli(target='2*x*x', dot={str(tmp_path / 'g.dot')!r})",
    ]
    refused = [
        "EvalRequest.from_cli(expression='x', at=('1',), json_out=True, csv=__import__('pathlib').Path('-'))",
        f"CheckRequest.from_cli(target={str(CHECK_SCRIPT)!r}, samples=0)",
        "ExplainRequest.from_cli(text='x', list_catalog=True)",
        "GraphRequest.from_cli(target='x', json_out=True, dot=__import__('pathlib').Path('-'))",
    ]
    built, heavy = probe(made + refused)
    assert built[:4] == ["EvalRequest", "CheckRequest", "ExplainRequest", "GraphRequest"]
    assert built[4:] == [
        "refused: --json and --csv - both write to standard output: choose one",
        "refused: --samples 0: give at least 1",
        "refused: --list takes no TEXT and no --run",
        "refused: --dot - and --json both write to standard output: choose one",
    ]
    assert heavy == ""


def _command_function(name: str) -> ast.FunctionDef:
    tree = ast.parse((SRC / "gradx" / "cli.py").read_text(encoding="utf-8"))
    (function,) = (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return function


def _called(node: ast.AST) -> list[str]:
    """The names called in ``node``, in order (``a.b(...)`` as ``b``)."""
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    return [
        c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "")
        for c in calls
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_each_cli_body_builds_runs_renders_and_exits(command):
    _, request_name, function_name = COMMANDS[command]
    body = _command_function(function_name)
    called = _called(body)
    steps = ["from_cli", "run", "emit", "_exit_for"]
    assert [c for c in called if c in steps] == steps, called
    # cli.py only parses and dispatches: no refusal of its own in a command body
    assert "GradxError" not in called
    assert any(
        isinstance(n, ast.ImportFrom) and any(a.name == request_name for a in n.names)
        for n in ast.walk(body)
    )
    # the last statement maps the report's verdict to the exit status
    last = body.body[-1]
    assert isinstance(last, ast.Raise) and _called(last) == ["_exit_for"]


def test_the_shape_test_sees_a_body_that_validates_for_itself():
    # The body check must be able to fail: a body raising its own GradxError does not pass.
    body = ast.parse(
        "def f():\n"
        "    request = R.from_cli()\n"
        "    if bad:\n        raise GradxError('no')\n"
        "    report = request.run()\n    emit(report)\n    raise _exit_for(report)\n"
    ).body[0]
    assert "GradxError" in _called(body)
