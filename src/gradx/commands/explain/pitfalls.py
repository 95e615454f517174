"""Autograd pitfalls that raise nothing, found in a script's source (``explain-error --run``).

The one found here is d2l's "gradients accumulate": ``.backward()`` adds into ``.grad``, so two
backward calls (or one inside a loop) without ``x.grad.zero_()``, ``x.grad = None`` or
``optimizer.zero_grad()`` between them leave the sum of both gradients. A script that does this
runs to its end without an error; only its numbers are wrong.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_RESETS = ("zero_grad", "zero_")  # optimizer.zero_grad(), model.zero_grad(), x.grad.zero_()


@dataclass(frozen=True)
class Accumulation:
    """Two backward calls with no reset of ``.grad`` between them (``second`` may equal
    ``first``: one call in a loop body, which repeats it)."""

    first: int  # line of the first backward call
    second: int  # line of the backward call whose gradient is added to the first one's


def gradient_accumulation(source: str) -> Accumulation | None:
    """The first place where gradients silently accumulate, or None (also for unparsable code)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    scopes = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
    ]
    for scope in scopes:
        found = _in_body(scope.body)
        if found is not None:
            return found
    return None


def _in_body(body: list[ast.stmt]) -> Accumulation | None:
    """Walk statements in order; a loop whose body backpropagates without a reset repeats it."""
    last: int | None = None  # the latest backward call not followed by a reset
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue  # their own scope
        if isinstance(statement, ast.For | ast.AsyncFor | ast.While):
            inner = _events(statement.body)
            calls = [line for kind, line in inner if kind == "backward"]
            if calls and not any(kind == "reset" for kind, _ in inner):
                return Accumulation(last if last is not None else calls[-1], calls[0])
        for kind, line in _events([statement]):
            if kind == "reset":
                last = None
            elif last is not None:
                return Accumulation(last, line)
            else:
                last = line
    return None


def _events(statements: list[ast.stmt]) -> list[tuple[str, int]]:
    """``("backward", line)`` and ``("reset", line)`` in source order, nested blocks included."""
    events: list[tuple[str, int]] = []
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name == "backward":
                    events.append(("backward", node.lineno))
                elif name in _RESETS:
                    events.append(("reset", node.lineno))
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr == "grad" for t in node.targets
            ):
                events.append(("reset", node.lineno))  # x.grad = None (or any new value)
    return sorted(events, key=lambda e: e[1])
