"""The import arrows point down: cli → render → command models; commands → shared packages.

Read from the source with ``ast`` (every import, including those inside functions), so a lazy
import cannot hide an arrow that points the wrong way.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "gradx"
SHARED = (
    "expression", "numerics", "user_script", "errors", "text", "atomic_file", "plain_text",
    "child_process", "termination", "translations", "at_values", "graph_words", "cjk_fonts",
)  # fmt: skip
COMMANDS = ("eval", "check", "explain", "graph")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """The gradx modules ``name`` imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                child = f"{module}.{alias.name}"
                found.add(child if child in MODULES else module)
    return frozenset(m for m in found if m == "gradx" or m.startswith("gradx."))


def layer(name: str) -> str:
    """``cli``, ``api`` (gradx/__init__.py), ``render``, ``model``, ``command`` or ``shared``."""
    parts = name.split(".")
    if name == "gradx":
        return "api"
    if parts[1] in ("cli", "cli_args", "__main__"):
        return "cli"
    if parts[1] == "render":
        return "render"
    if parts[1] == "commands":
        return "model" if parts[-1] == "model" else "command"
    assert parts[1] in SHARED, f"{name}: add it to a layer in tests/test_layering.py"
    return "shared"


def command_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "commands" else None


def edges():
    for name in MODULES:
        for target in imports_of(name):
            yield name, target


def test_every_module_belongs_to_a_layer():
    assert {command_of(n) for n in MODULES} - {None} == set(COMMANDS)
    for name in MODULES:
        layer(name)


def test_the_layering_rules_catch_a_wrong_arrow():
    # The rules below must be able to fail: a renderer importing a command's core does.
    assert not allowed("gradx.render.eval_table", "gradx.commands.eval.pipeline")
    assert not allowed("gradx.numerics.tolerances", "gradx.commands.check.model")
    assert not allowed("gradx.commands.check.model", "gradx.render.check_report")
    assert not allowed("gradx.commands.graph.sources", "gradx.commands.eval.points")
    assert allowed("gradx.render.eval_table", "gradx.commands.eval.model")


def allowed(source: str, target: str) -> bool:
    """May ``source`` import ``target``?"""
    src, dst = layer(source), layer(target)
    if src in ("cli", "api"):
        return dst != "cli" or source == "gradx.__main__"
    if src == "render":
        return dst in ("render", "model", "shared")
    if src == "model":
        return dst == "shared" or (dst == "model" and command_of(target) == command_of(source))
    if src == "command":
        # A command's core uses its own package and the shared ones; of another command only
        # the public face (its package, e.g. check's errors explained by gradx.commands.explain).
        return (
            dst == "shared"
            or command_of(target) == command_of(source)
            or target == f"gradx.commands.{command_of(target)}"
        )
    return dst == "shared"


@pytest.mark.parametrize("rule", ["render", "model", "command", "shared"])
def test_imports_point_down(rule):
    wrong = [
        f"{source} imports {target}"
        for source, target in edges()
        if layer(source) == rule and not allowed(source, target)
    ]
    assert wrong == []


def test_renderers_import_only_models_of_the_commands():
    for source, target in edges():
        if layer(source) == "render" and command_of(target):
            assert target.endswith(".model"), f"{source} imports {target}"


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module → modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for name in graph:
        if name not in state and (found := visit(name)):
            return found
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def test_no_import_cycles():
    graph = {name: sorted(imports_of(name) & MODULES.keys()) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or ())
