"""The Python API: ``gradx.check(fn, *inputs)`` and ``gradx.assert_gradients(fn, *inputs)``."""

from __future__ import annotations

import inspect
import math
import numbers
import time
from collections.abc import Mapping
from typing import Any

import torch

from gradx.commands.check.device import device_of, on_device
from gradx.commands.check.engine import dtype_name
from gradx.commands.check.model import CheckReport, Settings, TargetResult
from gradx.commands.check.session import check_with
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import check_tolerance_for
from gradx.user_script.inputs import inputs_from_values, make_inputs
from gradx.user_script.targets import MODULE, target_from_object


def check(
    fn: Any,
    *inputs: Any,
    kwargs: dict[str, Any] | None = None,
    order: int = 1,
    dtype: str | torch.dtype | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    samples: int = 1,
    method: str = "auto",
    name: str | None = None,
    against: Any = None,
    device: str | None = None,
) -> CheckReport:
    """Check autograd's gradients of ``fn`` at ``inputs`` against finite differences.

    ``fn`` is a function, a ``torch.autograd.Function`` subclass (called through ``.apply``),
    or an ``nn.Module`` instance (checked with respect to its inputs and every trainable
    parameter). Floating-point tensors among ``inputs`` and ``kwargs`` are differentiated; other
    values are passed unchanged. Without inputs, seeded random scalars are drawn for each tensor
    parameter, as ``gradx check`` does (``samples`` draws). ``dtype`` converts the tensors
    (default: keep float32 tensors float32, with float32 tolerances). ``order=2`` also checks
    double backward. ``method`` is "auto", "full" (every Jacobian entry),
    "directions" or "projections".

    ``against=reference`` compares ``fn`` (a fast kernel) with a reference implementation
    instead of finite differences: outputs and gradients in ``dtype`` (also "float16" or
    "bfloat16"; default: the inputs' dtype) against the reference run in that dtype and in
    float64 (docs/check.md, "Against a reference"). ``device`` ("cpu", "cuda", "mps") is where
    ``fn`` (and the reference) run; by default the device of the given tensors, else the cpu.

    Returns a CheckReport: ``report.ok``, ``report.verdict``, ``print(report)``. Arguments of
    the wrong type raise TypeError, unusable values ValueError, before anything is computed.
    """
    validate_arguments(
        fn, kwargs=kwargs, order=order, rtol=rtol, atol=atol, seed=seed, samples=samples,
        method=method, name=name, dtype=dtype,
    )  # fmt: skip
    if device is None:
        device = device_of([*inputs, *(kwargs or {}).values()])
    device = _device(device)
    if against is not None:
        return _check_against(
            fn, inputs, kwargs, against, dtype=dtype, rtol=rtol, atol=atol, seed=seed,
            samples=samples, name=name, device=device,
        )  # fmt: skip
    if order not in (1, 2):
        raise ValueError("order must be 1 or 2")
    method = Method.parse(method, "method")
    if samples < 1:
        raise ValueError("samples must be at least 1")
    chosen = _dtype(dtype, inputs, kwargs)
    torch_dtype = chosen.torch
    tol = check_tolerance_for(chosen, rtol, atol)
    settings = Settings(
        dtype=chosen, rtol=tol.rtol, atol=tol.atol, seed=seed,
        samples=samples if not inputs and not kwargs else 1, order=order, method=method, device=device,
    )  # fmt: skip
    label = name or getattr(fn, "__name__", None) or type(fn).__name__
    start = time.perf_counter()
    if inputs or kwargs or isinstance(fn, torch.nn.Module):
        convert = torch_dtype if dtype is not None else None

        def make(sample: int, positive: bool, shape: tuple[int, ...] = ()):
            return on_device(inputs_from_values(fn, inputs, kwargs, dtype=convert), device)

        kind = _kind(fn)
        result = check_with(make, label, kind, _line(fn), settings, samples=1)
    else:
        target = target_from_object(fn, label)

        def make(sample: int, positive: bool, shape: tuple[int, ...] = ()):
            made = make_inputs(
                target,
                seed=seed,
                sample=sample,
                dtype=torch_dtype,
                positive=positive,
                default_shape=shape,
            )
            return on_device(made, device)

        result = check_with(make, label, target.kind, target.line, settings)
    return CheckReport(targets=(result,), settings=settings, seconds=time.perf_counter() - start)


def _check_against(
    fn, inputs, kwargs, against, *, dtype, rtol, atol, seed, samples, name, device
) -> CheckReport:
    from gradx.commands.check import reference_check as rc
    from gradx.numerics.tolerances import AGAINST_TOLERANCES

    if not callable(against):
        raise TypeError(
            f"against must be a function, autograd.Function or nn.Module, not {against!r}"
        )
    torch_dtype = _against_dtype(dtype, inputs, kwargs)
    dtype_text = dtype_name(torch_dtype)
    for option, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not value >= 0:
            raise ValueError(f"{option} must be a number >= 0")
    default_rtol, default_atol = AGAINST_TOLERANCES[dtype_text]
    reference_name = getattr(against, "__name__", None) or type(against).__name__
    given = bool(inputs or kwargs)
    settings = Settings(
        dtype=dtype_text, rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol, seed=seed,
        samples=1 if given else samples, order=1, against=reference_name, device=device,
    )  # fmt: skip
    label = name or getattr(fn, "__name__", None) or type(fn).__name__
    start = time.perf_counter()
    if given or isinstance(fn, torch.nn.Module):

        def make(sample: int, positive: bool):
            made = inputs_from_values(fn, inputs, kwargs, dtype=torch.float64)
            return rc.make_pair(made, against, None, seed=seed, dtype=torch_dtype)

        kind, line = _kind(fn), _line(fn)
    else:
        target = target_from_object(fn, label)

        def make(sample: int, positive: bool):
            made = make_inputs(
                target, seed=seed, sample=sample, dtype=torch.float64, positive=positive
            )
            return rc.make_pair(made, against, None, seed=seed, dtype=torch_dtype)

        kind, line = target.kind, target.line
    result = rc.check_pairs(make, label, kind, line, settings, samples=settings.samples)
    return CheckReport(targets=(result,), settings=settings, seconds=time.perf_counter() - start)


def _against_dtype(dtype: Any, inputs: tuple, kwargs: dict | None) -> torch.dtype:
    from gradx.commands.check.reference_check import DTYPES

    if dtype is None:
        floats = {
            v.dtype
            for v in (*inputs, *(kwargs or {}).values())
            if isinstance(v, torch.Tensor) and v.is_floating_point()
        }
        return floats.pop() if len(floats) == 1 else torch.float64
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
        return DTYPES[dtype]
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    return dtype


def _device(device: str) -> str:
    from gradx.commands.check.device import parse_device, require_device
    from gradx.errors import GradxError

    try:
        name = parse_device(str(device))
        require_device(name)
    except GradxError as error:
        raise ValueError(error.message.replace("--device ", "device ")) from None
    return name


def assert_gradients(fn: Any, *inputs: Any, **options: Any) -> CheckReport:
    """Like ``check``, but raise AssertionError with the readable report unless all is well.

    Points where the function has no derivative (kinks) do not fail the assertion; pass
    ``allow_nondifferentiable=False`` to make them fail too.
    """
    allow_kinks = options.pop("allow_nondifferentiable", True)
    if not isinstance(allow_kinks, bool):
        raise TypeError(f"allow_nondifferentiable must be True or False, not {allow_kinks!r}")
    report = check(fn, *inputs, **options)
    from gradx.commands.check.model import Verdict

    bad = not report.ok or (not allow_kinks and report.verdict is Verdict.NONDIFFERENTIABLE)
    if bad:
        headline = {
            Verdict.ERROR: "the gradient check could not finish: the function raised an error",
            Verdict.TIMEOUT: "the gradient check did not finish in time",
            Verdict.NONDIFFERENTIABLE: "the function has points without a derivative",
        }.get(report.verdict, "gradients do not match")
        raise AssertionError(f"{headline}:\n{report}")
    return report


_MAX_SEED = 2**63 - 1


def validate_arguments(
    fn: Any,
    *,
    kwargs: Any,
    order: Any,
    rtol: Any,
    atol: Any,
    seed: Any,
    samples: Any,
    method: Any,
    name: Any,
    dtype: Any,
) -> None:
    """TypeError for an argument of the wrong type, ValueError for an unusable value."""
    if not callable(fn):
        raise TypeError(f"fn must be a function, an autograd.Function or a module, not {fn!r}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"kwargs must be a dict of keyword arguments, not {_shown(kwargs)}")
    if kwargs is not None and not all(isinstance(key, str) for key in kwargs):
        raise TypeError("kwargs must have str keys (the parameter names)")
    _integer("order", order)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, not {order}")
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{label} must be a number or None, not {_shown(value)}")
        number = float(value)
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"{label} must be a finite number >= 0, not {value}")
    _integer("seed", seed)
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be between 0 and 2**63 - 1, not {seed}")
    _integer("samples", samples)
    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    if not isinstance(method, str):
        raise TypeError(f"method must be a str ({', '.join(Method)}), not {_shown(method)}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None, not {_shown(name)}")
    if dtype is not None and not isinstance(dtype, (str, torch.dtype)):
        raise TypeError(f"dtype must be a str or a torch.dtype, not {_shown(dtype)}")


def _integer(label: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{label} must be an int, not {_shown(value)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}" if len(text) <= 60 else type(value).__name__


def _dtype(dtype: Any, inputs: tuple, kwargs: dict | None) -> DType:
    """The dtype asked for (a name or a torch dtype), else float32 when every input is float32."""
    if dtype is not None:
        return DType.parse(dtype, "dtype")
    floats = [
        v.dtype.to_real()
        for v in (*inputs, *(kwargs or {}).values())
        if isinstance(v, torch.Tensor) and (v.is_floating_point() or v.is_complex())
    ]
    return DType.FLOAT32 if floats and all(d == torch.float32 for d in floats) else DType.FLOAT64


def _kind(fn: Any) -> str:
    if inspect.isclass(fn) and issubclass(fn, torch.autograd.Function):
        return "autograd.Function"
    if isinstance(fn, torch.nn.Module):
        return MODULE
    return "function"


def _line(fn: Any) -> int | None:
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    code = getattr(target, "__code__", None)
    return code.co_firstlineno if code is not None else None


__all__ = ["CheckReport", "TargetResult", "assert_gradients", "check"]
