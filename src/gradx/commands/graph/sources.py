"""What ``gradx graph`` traces: an expression, or a target in a Python file (``file.py::NAME``).

Expressions: every variable is a leaf tensor with ``requires_grad=True``, valued by ``--at``
(``x=1.5``; ``x=0,1,2,3`` makes a vector; unset variables are 1). Files: the target and its
inputs come from ``gradx check``'s own loader and input rules (``gradx.commands.check``: ``--at``,
``--shape``, the file's ``example_NAME()``, else seeded random values), so both commands see the
same function called the same way; every floating input and module parameter is a leaf.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gradx.commands.graph.model import AutogradGraph
from gradx.errors import ExitCode, GradxError
from gradx.numerics.settings import DType
from gradx.text import first_line

DEFAULT_VALUE = 1.0
SEED = 0


MAX_ELEMENTS = 10_000  # of one --at tensor
MAX_NESTING = 8


def expression_values(specs: Sequence[str], variables: Sequence[str]) -> dict[str, Any]:
    """``--at`` as ``gradx check`` reads it: ``x=1.5``, ``x=0,1,2,3`` (a vector), ``x=1,y=2``,
    and nested lists for matrices: ``a=[[1,2],[3,4]]`` (``x=[0,1,2,3]`` is the same vector).

    A number after a name's values belongs to that name; a bare number needs one variable.
    """
    found: dict[str, list[Any]] = {}
    for spec in specs:
        current: str | None = None
        for token in _split_top_level(spec):
            name, eq, text = token.partition("=")
            if eq:
                current = name.strip()
                if current not in variables:
                    known = ", ".join(variables)
                    raise GradxError(f"--at {spec!r}: {current!r} is not a variable ({known})")
                if current in found:
                    raise GradxError(f"--at gives {current} twice")
                found[current] = []
            else:
                text = name
                if current is None:
                    if len(variables) != 1:
                        raise GradxError(
                            f"--at {spec!r}: name the variables, as in --at {variables[0]}=1"
                        )
                    current = variables[0]
                    found[current] = []
            found[current].append(_value(text, spec, 0))
    values: dict[str, Any] = {}
    for name, items in found.items():
        if len(items) == 1:
            values[name] = items[0]
        elif any(isinstance(item, list) for item in items):
            raise GradxError(f"--at {name}: give a list in brackets, or numbers, not both")
        else:
            values[name] = items
        _shape_of(values[name], name)
    return values


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets and parentheses (``[[1,2],[3,4]]``, ``atan2(1,2)``)."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _value(text: str, spec: str, depth: int) -> Any:
    """A number, or a (nested) list of numbers written in brackets."""
    stripped = text.strip()
    if stripped.startswith("["):
        if not stripped.endswith("]"):
            raise GradxError(f"--at {spec!r}: a '[' is not closed by ']'")
        if depth >= MAX_NESTING:
            raise GradxError(f"--at {spec!r}: lists nested deeper than {MAX_NESTING}")
        inner = stripped[1:-1]
        if not inner.strip():
            raise GradxError(f"--at {spec!r}: an empty list has no values")
        return [_value(item, spec, depth + 1) for item in _split_top_level(inner)]
    return _number(text, spec)


def _shape_of(value: Any, name: str) -> tuple[int, ...]:
    """The shape of a nested list; refuses ragged lists (rows of different lengths)."""
    if not isinstance(value, list):
        return ()
    shapes = {_shape_of(item, name) for item in value}
    if len(shapes) != 1:
        raise GradxError(
            f"--at {name}: the rows have different lengths (a matrix needs equal rows)"
        )
    shape = (len(value), *shapes.pop())
    if math.prod(shape) > MAX_ELEMENTS:
        raise GradxError(f"--at {name}: more than {MAX_ELEMENTS:,} values")
    return shape


def _number(text: str, spec: str) -> float:
    from gradx.expression.parser import parse_constant as constant

    if not text.strip():
        raise GradxError(f"--at {spec!r}: a value is missing")
    return constant(text, f"--at {spec!r}: the value {text.strip()!r}")


def gradient_values(text: str | None) -> Any:
    """``--gradient 1,0,0,0`` or ``[[1,0],[0,1]]``: the vector backward() is given, or None."""
    if text is None:
        return None
    items = [_value(item, f"--gradient {text}", 0) for item in _split_top_level(text)]
    value = items[0] if len(items) == 1 else items
    if len(items) > 1 and any(isinstance(item, list) for item in items):
        raise GradxError("--gradient: give a list in brackets, or numbers, not both")
    _shape_of(value, "--gradient")
    return value


def _check_frozen(frozen: Sequence[str], names: Sequence[str]) -> set[str]:
    unknown = [name for name in frozen if name not in names]
    if unknown:
        raise GradxError(
            f"--frozen {unknown[0]}: no leaf of that name (leaves: {', '.join(names) or 'none'})"
        )
    return set(frozen)


def expression_graph(
    expression: str,
    at: Sequence[str],
    dtype: str = "float64",
    *,
    backward: bool = True,
    frozen: Sequence[str] = (),
    gradient: str | None = None,
) -> AutogradGraph:
    """The backward graph of an expression, every variable a leaf that requires grad (but
    those named in ``frozen``); ``gradient`` is the vector given to backward()."""
    from gradx.expression.parser import parse_expression

    parsed = parse_expression(expression)
    if not parsed.variables:
        raise GradxError("the expression has no variables: there is no graph to draw (try 2*x*x)")
    torch_dtype = DType.parse(dtype).torch
    values = expression_values(at, parsed.variables)
    constant_leaves = _check_frozen(frozen, parsed.variables)
    given = gradient_values(gradient)
    import torch

    from gradx.commands.graph.build import trace_graph
    from gradx.expression.to_torch import evaluate

    notes = []
    leaves = {}
    for name in parsed.variables:
        if name not in values:
            notes.append(f"{name} = {DEFAULT_VALUE:g} (not given: set it with --at {name}=…)")
        leaves[name] = torch.tensor(
            values.get(name, DEFAULT_VALUE),
            dtype=torch_dtype,
            requires_grad=name not in constant_leaves,
        )

    def compute() -> Any:
        try:
            return evaluate(parsed.root, leaves, torch_dtype)
        except RuntimeError as exc:
            shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in leaves.items())
            raise GradxError(
                f"the inputs do not fit together ({shapes}): {first_line(exc)}"
            ) from None

    return trace_graph(expression, compute, leaves, backward=backward, notes=notes, gradient=given)


def is_script_target(text: str) -> bool:
    """Whether the argument names a Python file (``file.py`` or ``file.py::NAME``)."""
    return text.rpartition("::")[0].endswith(".py") or text.endswith(".py")


def script_graph(
    target_text: str,
    at: Sequence[str] = (),
    shapes: Sequence[str] = (),
    dtype: str = "float64",
    *,
    backward: bool = True,
    frozen: Sequence[str] = (),
    gradient: str | None = None,
) -> AutogradGraph:
    """The backward graph of a target of a Python file, called as ``gradx check`` calls it.

    What the file prints (at import or in the call) is kept apart, in ``printed``.
    """
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        graph = _script_graph(target_text, at, shapes, dtype, backward, frozen, gradient)
    from dataclasses import replace

    return replace(graph, printed=tuple(printed.getvalue().splitlines()[-MAX_PRINTED:]))


MAX_PRINTED = 40  # lines of the file's own output shown


def _script_graph(
    target_text: str,
    at: Sequence[str],
    shapes: Sequence[str],
    dtype: str,
    backward: bool,
    frozen: Sequence[str],
    gradient: str | None,
) -> AutogradGraph:
    from gradx.user_script.inputs import InputError, make_inputs
    from gradx.user_script.spec import check_file, input_spec, split_target
    from gradx.user_script.targets import MODULE, find_targets, load_module, select

    torch_dtype = DType.parse(dtype).torch
    path, name = split_target(target_text)
    check_file(path)
    spec = input_spec(tuple(shapes), tuple(at))
    found = find_targets(load_module(path))
    if name is None:
        if len(found.targets) != 1:
            names = ", ".join(t.name for t in found.targets) or "none"
            raise GradxError(
                f"{path.name} has {len(found.targets)} targets ({names}): "
                f"name one, as in {path}::{found.targets[0].name if found.targets else 'f'}"
            )
        target = found.targets[0]
    else:
        target = select(found, name)
    try:
        inputs = make_inputs(target, spec, seed=SEED, dtype=torch_dtype)
    except InputError as exc:
        raise GradxError(f"{path.name}::{target.name}: {exc}") from None
    constant_leaves = _check_frozen(frozen, inputs.names)
    given = gradient_values(gradient)
    leaves = {
        leaf_name: tensor.detach().clone().requires_grad_(leaf_name not in constant_leaves)
        for leaf_name, tensor in zip(inputs.names, inputs.tensors, strict=True)
    }
    notes = list(inputs.notes)
    if inputs.random:
        notes.append(
            f"inputs drawn at random (seed {SEED}), as gradx check does: "
            "set them with --at NAME=… or --shape NAME=…"
        )
    forward = target.obj.forward if target.kind == MODULE else target.obj
    code = getattr(getattr(forward, "forward", forward), "__code__", None)
    local_names: dict[int, str] = {}
    title = f"{path}::{target.name}"

    def compute() -> Any:
        with _LocalsOnReturn(code, local_names):
            try:
                return inputs.call(list(leaves.values()))
            except GradxError:
                raise
            except Exception as exc:  # noqa: BLE001 - the user's code failed: say so, in one line
                first = first_line(exc)
                raise GradxError(
                    f"{title} raised {type(exc).__name__}" + (f": {first}" if first else ""),
                    exit_code=ExitCode.FAILED,
                    detail=("  gradx explain-error explains autograd errors",),
                ) from None

    from gradx.commands.graph.build import trace_graph

    return trace_graph(
        title,
        compute,
        leaves,
        source_file=str(path.resolve()),
        backward=backward,
        notes=notes,
        local_names=local_names,
        gradient=given,
    )


class _LocalsOnReturn:
    """Remembers the names a function gave its tensors (read from its frame as it returns)."""

    def __init__(self, code: Any, names: dict[int, str]) -> None:
        self.code = code
        self.names = names
        self.previous: Callable[..., Any] | None = None

    def __enter__(self) -> None:
        import torch

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "return" and frame.f_code is self.code:
                for local, value in frame.f_locals.items():
                    if isinstance(value, torch.Tensor):
                        self.names.setdefault(id(value), local)

        self.previous = sys.getprofile()
        if self.code is not None:
            sys.setprofile(profile)

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(self.previous)
