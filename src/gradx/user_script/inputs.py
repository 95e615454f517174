"""Concrete arguments for a target: seeded random tensors, the file's example, or --shape/--at.

Public API (also used by ``gradx graph``): ``make_inputs(target, spec, seed=0, sample=0)``
returns an ``Inputs``; ``inputs.call(inputs.tensors)`` runs the target once on them, and
``inputs.call(new_tensors)`` runs it with the differentiated tensors replaced.

The rules, in order of precedence for each tensor parameter:

1. ``--at NAME=...`` / ``--shape NAME=...`` on the command line;
2. the file's ``example_NAME()`` (or ``example_NAME(generator)``), which returns the arguments:
   a tuple (positional), a dict (by name) or a single value (the first argument);
3. a bare ``--at 1.5`` / ``--shape 7`` (every tensor parameter without an example value);
4. a seeded random draw: ``default_shape`` (scalar unless the caller asks for another; gradx
   check asks for the shapes of ``DEFAULT_SHAPES`` in turn, see there; for an ``nn.Module``
   whose first layer is ``nn.Linear``: ``(in_features,)``), values ``±(k + u)`` with k in {0, 1} and u uniform in [0.15, 0.85], so
   never within 0.15 of 0 or of an integer, where ``relu``, ``abs``, ``floor`` have kinks.

Floating tensors are differentiated (converted to the check's dtype); integer tensors and other
values are passed as they are. Parameters with a non-tensor default keep the default. An
``nn.Module`` is constructed with no arguments under the seed, converted to the dtype and put
in ``eval()`` mode (dropout off); its trainable parameters are differentiated too.
"""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from gradx.at_values import AtValue
from gradx.translations import Phrase, phrase
from gradx.user_script.spec import ALL, InputSpec, fits
from gradx.user_script.targets import AUTOGRAD_FUNCTION, MODULE, Target

Tensor = torch.Tensor


# gradx check's default shapes, tried in turn until the function accepts them: several
# elements, so that a transposed Jacobian or a backward that mixes elements can show (at one
# element it cannot), then a non-square matrix, then a scalar.
DEFAULT_SHAPES: tuple[tuple[int, ...], ...] = ((5,), (2, 3), ())


class InputError(Exception):
    """The inputs for a target cannot be made (reported as the target's error)."""


@dataclass
class Inputs:
    """The arguments of one call of a target, and which tensors in them are differentiated."""

    fn: Callable[..., Any]
    args: list[Any]
    kwargs: dict[str, Any]
    names: tuple[str, ...]  # differentiated tensors, arguments first, then module parameters
    kinds: tuple[str, ...]  # "input" or "parameter", per name
    tensors: list[Tensor]  # their current values (detached)
    slots: tuple[tuple[str, int | str], ...] = ()  # where each argument tensor sits
    module: Any = None
    random: bool = False  # some value was drawn at random (so a positive redraw may help)
    default_shaped: bool = False  # some tensor has the default shape (another may be tried)
    notes: list[Phrase] = field(default_factory=list)  # in no language yet (str(): English)

    def call(self, tensors: Sequence[Tensor] | None = None) -> Any:
        """Run the target with the differentiated tensors replaced by ``tensors``."""
        tensors = self.tensors if tensors is None else list(tensors)
        args, kwargs = list(self.args), dict(self.kwargs)
        n_args = len(self.slots)
        for (_, key), value in zip(self.slots, tensors[:n_args], strict=True):
            if isinstance(key, int):  # ("arg", position); ("kw", name) otherwise
                args[key] = value
            else:
                kwargs[key] = value
        if self.module is not None and len(tensors) > n_args:
            from torch.func import functional_call

            params = dict(zip(self.names[n_args:], tensors[n_args:], strict=True))
            return functional_call(self.module, params, tuple(args), kwargs)
        return self.fn(*args, **kwargs)


def make_inputs(
    target: Target,
    spec: InputSpec | None = None,
    *,
    seed: int = 0,
    sample: int = 0,
    dtype: torch.dtype = torch.float64,
    positive: bool = False,
    default_shape: tuple[int, ...] = (),
) -> Inputs:
    """Build the arguments of ``target`` for input draw ``sample`` (see the module docstring)."""
    spec = spec or InputSpec()
    module = None
    fn: Callable[..., Any] = target.obj
    if target.kind == AUTOGRAD_FUNCTION:
        fn = target.obj.apply
    elif target.kind == MODULE:
        module = instantiate_module(target.obj, seed=seed, dtype=dtype)
        fn = module
    example = _example_values(target, seed, sample)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    slots: list[tuple[str, int | str]] = []
    names: list[str] = []
    tensors: list[Tensor] = []
    random = False
    default_shaped = False
    positional_ok = target.kind == AUTOGRAD_FUNCTION
    for index, param in enumerate(target.params):
        named = param.name in spec.names()
        if param.name in example and not named:
            value = example[param.name]
            if isinstance(value, float) and (param.is_tensor or not param.has_default):
                value = torch.tensor(value, dtype=dtype)
        elif param.is_tensor and (named or not param.has_default or _bare(spec)):
            shape = spec.shape_for(param.name)
            values = spec.values_for(param.name)
            if shape is None and values is None and param.has_default:
                value = param.default
            else:
                if shape is None and (values is None or values.is_number):
                    shape = _default_shape(module) if target.kind == MODULE else None
                    if shape is None:
                        shape = default_shape if values is None else ()
                        default_shaped = default_shaped or values is None
                value = _tensor(values, shape, dtype, seed, sample, index, param.name, positive)
                random = random or values is None
        elif param.has_default:
            value = param.default
        else:
            raise InputError(f"no value for parameter {param.name}")
        if _differentiable(value):
            value = value.detach().to(_same_kind(value, dtype))
            names.append(param.name)
            tensors.append(value)
            if param.keyword_only and not positional_ok:
                slots.append(("kw", param.name))
            else:
                slots.append(("arg", len(args)))
        if param.keyword_only and not positional_ok:
            kwargs[param.name] = value
        else:
            args.append(value)
    kinds = ["input"] * len(names)
    notes: list[Phrase] = []
    if module is not None:
        for pname, parameter in module.named_parameters():
            if not parameter.requires_grad:
                notes.append(
                    phrase(
                        "parameter {name} is frozen (requires_grad=False): not checked", name=pname
                    )
                )
                continue
            label = pname if pname not in names else f"self.{pname}"
            names.append(label)
            kinds.append("parameter")
            tensors.append(parameter.detach())
    return Inputs(
        fn=fn,
        args=args,
        kwargs=kwargs,
        names=tuple(names),
        kinds=tuple(kinds),
        tensors=tensors,
        slots=tuple(slots),
        module=module,
        random=random,
        default_shaped=default_shaped,
        notes=notes,
    )


def inputs_from_values(
    fn: Any, values: Sequence[Any], kwargs: dict[str, Any] | None = None, *, dtype=None
) -> Inputs:
    """Arguments given in Python (``gradx.check(fn, x, y)``): float tensors are differentiated.

    ``fn`` may be a callable, an ``autograd.Function`` subclass (called through ``.apply``) or
    an ``nn.Module`` instance (its trainable parameters are differentiated too).
    """
    kwargs = dict(kwargs or {})
    module = None
    call = fn
    if inspect.isclass(fn) and issubclass(fn, torch.autograd.Function):
        call = fn.apply
    elif isinstance(fn, torch.nn.Module):
        module = fn
    names: list[str] = []
    tensors: list[Tensor] = []
    slots: list[tuple[str, int | str]] = []
    args = list(values)
    param_names = _call_param_names(fn)
    for i, value in enumerate(args):
        if _differentiable(value):
            value = value.detach().to(_same_kind(value, dtype)) if dtype else value.detach()
            args[i] = value
            names.append(param_names[i] if i < len(param_names) else f"input{i}")
            tensors.append(value)
            slots.append(("arg", i))
    for key, value in kwargs.items():
        if _differentiable(value):
            value = value.detach().to(_same_kind(value, dtype)) if dtype else value.detach()
            kwargs[key] = value
            names.append(key)
            tensors.append(value)
            slots.append(("kw", key))
    kinds = ["input"] * len(names)
    if module is not None:
        for pname, parameter in module.named_parameters():
            if parameter.requires_grad:
                names.append(pname if pname not in names else f"self.{pname}")
                kinds.append("parameter")
                p = parameter.detach()
                tensors.append(p.to(dtype) if dtype is not None else p)
    return Inputs(call, args, kwargs, tuple(names), tuple(kinds), tensors, tuple(slots), module)


def instantiate_module(cls: type, *, seed: int, dtype: torch.dtype) -> Any:
    """``cls()`` with parameters drawn under ``seed``, in ``dtype``, in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = cls()
    return module.to(dtype).eval()


def describe_value(t: Tensor) -> str:
    """A short text of a tensor for the report: its values up to 6 elements, else its shape."""
    if t.numel() == 1 and t.dim() == 0:
        return _number(t.item())
    if 0 < t.numel() <= 6:
        return _nested(t.detach().cpu().tolist())
    return f"shape {tuple(t.shape)}"


def _number(value: Any) -> str:
    if isinstance(value, complex):
        return f"{value.real:.6g}{value.imag:+.6g}j"
    return f"{value:.6g}"


def _nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return _number(value)


def _differentiable(value: Any) -> bool:
    """Floating-point and complex tensors are differentiated."""
    return isinstance(value, Tensor) and (value.is_floating_point() or value.is_complex())


def _same_kind(value: Tensor, dtype: torch.dtype) -> torch.dtype:
    """``dtype`` for a real tensor, its complex counterpart for a complex one."""
    if value.is_complex():
        return {torch.float64: torch.complex128, torch.float32: torch.complex64}.get(
            dtype, value.dtype
        )
    return dtype


def _bare(spec: InputSpec) -> bool:
    return any(n == ALL for n, _ in (*spec.shapes, *spec.values))


def _call_param_names(fn: Any) -> list[str]:
    try:
        if inspect.isclass(fn) and issubclass(fn, torch.autograd.Function):
            params = list(inspect.signature(fn.forward).parameters)
            new_style = getattr(fn, "setup_context", None) is not getattr(
                torch.autograd.Function, "setup_context", None
            )
            return params if new_style else params[1:]
        target = fn.forward if isinstance(fn, torch.nn.Module) else fn
        return [
            p.name
            for p in inspect.signature(target).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def _example_values(target: Target, seed: int, sample: int) -> dict[str, Any]:
    if target.example is None:
        return {}
    generator = torch.Generator().manual_seed(_mix(seed, sample, "example"))
    try:
        takes_generator = len(inspect.signature(target.example).parameters) > 0
    except (TypeError, ValueError):
        takes_generator = False
    result = target.example(generator) if takes_generator else target.example()
    names = [p.name for p in target.params]
    if isinstance(result, dict):
        unknown = [k for k in result if k not in names]
        if unknown:
            raise InputError(
                f"example_{target.name}() names {', '.join(unknown)}, which "
                f"{target.name} does not take (its parameters: {', '.join(names) or 'none'})"
            )
        return dict(result)
    if not isinstance(result, tuple | list):
        result = (result,)
    if len(result) > len(names):
        raise InputError(
            f"example_{target.name}() returns {len(result)} values but {target.name} takes "
            f"{len(names)} ({', '.join(names) or 'none'})"
        )
    return dict(zip(names, result, strict=False))


def _default_shape(module: Any) -> tuple[int, ...] | None:
    for sub in module.modules():
        if isinstance(sub, torch.nn.Linear):
            return (sub.in_features,)
        if isinstance(sub, torch.nn.Conv1d):
            return (sub.in_channels, 8)
        if isinstance(sub, torch.nn.Conv2d):
            return (sub.in_channels, 6, 6)
    return None


def _mix(seed: int, sample: int, name: str) -> int:
    return (seed * 1_000_003 + sample * 7_919 + zlib.crc32(name.encode())) % (2**62)


def _tensor(
    values: AtValue | None,
    shape: tuple[int, ...] | None,
    dtype: torch.dtype,
    seed: int,
    sample: int,
    index: int,
    name: str,
    positive: bool,
) -> Tensor:
    if values is not None:
        data = torch.tensor(values.flat, dtype=dtype)
        if shape is None:
            return data.reshape(values.shape)
        if values.is_number:
            return torch.full(shape, values.flat[0], dtype=dtype)
        if not fits(values, shape):
            raise InputError(
                f"--at {name} is {values.shape_text()}, which does not fit shape {shape}"
            )
        return data.reshape(shape)
    shape = shape or ()
    generator = torch.Generator().manual_seed(_mix(seed, sample, f"{index}:{name}"))
    fraction = torch.rand(shape, generator=generator, dtype=torch.float64) * 0.7 + 0.15
    whole = torch.randint(0, 2, shape, generator=generator).to(torch.float64)
    sign = torch.ones(shape, dtype=torch.float64)
    if not positive:
        sign = torch.where(torch.rand(shape, generator=generator) < 0.5, -sign, sign)
    return (sign * (whole + fraction)).to(dtype)
