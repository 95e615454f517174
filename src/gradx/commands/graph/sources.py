"""What ``gradx graph`` traces: an expression, or a target in a Python file (``file.py::NAME``).

Expressions: every variable is a leaf tensor with ``requires_grad=True``, valued by ``--at``
(``x=1.5``; ``x=0,1,2,3`` makes a vector, ``a=[[1,2],[3,4]]`` a matrix; unset variables are 1). Files: the target and its
inputs come from ``gradx check``'s own loader and input rules (``gradx.commands.check``: ``--at``,
``--shape``, the file's ``example_NAME()``, else seeded random values), so both commands see the
same function called the same way; every floating input and module parameter is a leaf.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gradx.at_values import ALL, AtValue, merge_at, parse_one_value
from gradx.commands.graph.model import AutogradGraph
from gradx.errors import ExitCode, GradxError
from gradx.numerics.settings import DType
from gradx.text import first_line
from gradx.translations import Phrase, phrase

DEFAULT_VALUE = 1.0
SEED = 0


MAX_ELEMENTS = 10_000  # of one --at tensor


def expression_values(specs: Sequence[str], variables: Sequence[str]) -> dict[str, Any]:
    """``--at`` in the one grammar of ``gradx.at_values``: ``x=1.5``, ``x=0,1,2,3`` (a vector),
    ``x=1,y=2``, ``a=[[1,2],[3,4]]`` (a matrix), or a bare value for every variable.

    Each value comes back as a float or nested tuples of floats (what ``torch.tensor`` takes).
    """
    values: dict[str, Any] = {}
    for value in merge_at(specs, variables):
        _check_size(value, "--at " + value.name)
        if value.name == ALL:
            values.update({name: value.nested for name in variables if name not in values})
        else:
            values[value.name] = value.nested
    return values


def _check_size(value: AtValue, what: str) -> None:
    if len(value.flat) > MAX_ELEMENTS:
        raise GradxError(f"{what}: more than {MAX_ELEMENTS:,} values")


def gradient_values(text: str | None) -> Any:
    """``--gradient 1,0,0,0`` or ``[[1,0],[0,1]]``: the vector backward() is given, or None."""
    if text is None:
        return None
    value = parse_one_value(text, "--gradient")
    _check_size(value, "--gradient")
    return value.nested


def _check_frozen(frozen: Sequence[str], names: Sequence[str]) -> set[str]:
    unknown = [name for name in frozen if name not in names]
    if unknown:
        raise GradxError(
            f"--frozen {unknown[0]}: no leaf of that name (leaves: {', '.join(names) or 'none'})"
        )
    return set(frozen)


@dataclass(frozen=True)
class ExpressionCall:
    """An expression ready to run on its leaves: what ``expression_graph`` and the graphs of
    ``--order K`` share. ``compute`` evaluates it (inputs that do not fit: GradxError)."""

    leaves: dict[str, Any]  # variable -> leaf tensor (requires_grad unless --frozen)
    constant: frozenset[str]  # the --frozen variables
    notes: tuple[Phrase, ...]  # variables given no value
    given_gradient: Any  # --gradient, parsed (None: ones)
    compute: Callable[[], Any]


def prepare_expression_call(
    expression: str,
    at: Sequence[str],
    dtype: str = "float64",
    *,
    frozen: Sequence[str] = (),
    gradient: str | None = None,
) -> ExpressionCall:
    """Parse ``expression`` (tensor functions allowed), make a leaf per variable from ``at``
    (a default value otherwise, said in a note), and check ``frozen`` and ``gradient``."""
    from gradx.expression.parser import parse_expression

    parsed = parse_expression(expression, tensors=True)
    if not parsed.variables:
        raise GradxError("the expression has no variables: there is no graph to draw (try 2*x*x)")
    torch_dtype = DType.parse(dtype).torch
    values = expression_values(at, parsed.variables)
    constant = _check_frozen(frozen, parsed.variables)
    given = gradient_values(gradient)
    import torch

    from gradx.expression.to_torch import evaluate

    notes = tuple(
        phrase(
            "{name} = {value} (not given: set it with --at {name}=…)",
            name=name,
            value=f"{DEFAULT_VALUE:g}",
        )
        for name in parsed.variables
        if name not in values
    )
    leaves = {
        name: torch.tensor(
            values.get(name, DEFAULT_VALUE), dtype=torch_dtype, requires_grad=name not in constant
        )
        for name in parsed.variables
    }

    def compute() -> Any:
        try:
            return evaluate(parsed.root, leaves, torch_dtype)
        except RuntimeError as exc:
            shapes = ", ".join(f"{n} {tuple(t.shape)}" for n, t in leaves.items())
            raise GradxError(
                f"the inputs do not fit together ({shapes}): {first_line(exc)}"
            ) from None

    return ExpressionCall(leaves, frozenset(constant), notes, given, compute)


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
    from gradx.commands.graph.build import trace_graph

    call = prepare_expression_call(expression, at, dtype, frozen=frozen, gradient=gradient)
    return trace_graph(
        expression,
        call.compute,
        call.leaves,
        backward=backward,
        notes=list(call.notes),
        gradient=call.given_gradient,
    )


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
    call = prepare_script_call(target_text, at, shapes, dtype, frozen)
    given = gradient_values(gradient)
    from gradx.commands.graph.build import trace_graph

    return trace_graph(
        call.title,
        call.compute,
        call.leaves,
        source_file=call.source_file,
        backward=backward,
        notes=call.notes,
        local_names=call.local_names,
        gradient=given,
    )


@dataclass(frozen=True)
class ScriptCall:
    """A target of a user's file, ready to be called on its leaves (as ``gradx check`` calls it).

    ``compute`` runs the target once on ``leaves`` (an error in the user's code is a GradxError,
    exit 1); while it runs, ``local_names`` learns the names the function gave its tensors.
    """

    title: str  # file.py::NAME
    source_file: str
    leaves: dict[str, Any]  # name -> leaf tensor, the target's inputs first, then parameters
    inputs: tuple[str, ...]  # the names of leaves that are inputs (not module parameters)
    notes: tuple[Phrase, ...]
    compute: Callable[[], Any]
    local_names: dict[int, str]


def prepare_script_call(
    target_text: str,
    at: Sequence[str],
    shapes: Sequence[str],
    dtype: str,
    frozen: Sequence[str] = (),
) -> ScriptCall:
    """Load ``FILE.py::NAME`` and make its inputs (``--at``, ``--shape``, ``example_NAME()``,
    else seeded random values); every floating input and parameter becomes a leaf that requires
    grad, but those named in ``frozen``."""
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
    known = [param.name for param in target.params]
    unknown = sorted(spec.names() - set(known))
    if unknown:
        raise GradxError(
            f"{path.name}::{target.name} has no parameter named {', '.join(unknown)} "
            f"(parameters: {', '.join(known) or 'none'})"
        )
    try:
        inputs = make_inputs(target, spec, seed=SEED, dtype=torch_dtype)
    except InputError as exc:
        raise GradxError(f"{path.name}::{target.name}: {exc}") from None
    constant_leaves = _check_frozen(frozen, inputs.names)
    leaves = {
        leaf_name: tensor.detach().clone().requires_grad_(leaf_name not in constant_leaves)
        for leaf_name, tensor in zip(inputs.names, inputs.tensors, strict=True)
    }
    notes = list(inputs.notes)
    if inputs.random:
        notes.append(
            phrase(
                "inputs drawn at random (seed {seed}), as gradx check does: "
                "set them with --at NAME=… or --shape NAME=…",
                seed=SEED,
            )
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

    return ScriptCall(
        title=title,
        source_file=str(path.resolve()),
        leaves=leaves,
        inputs=tuple(
            n for n, kind in zip(inputs.names, inputs.kinds, strict=True) if kind == "input"
        ),
        notes=tuple(notes),
        compute=compute,
        local_names=local_names,
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
