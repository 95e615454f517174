"""The Python API: ``gradx.check(fn, *inputs)`` and ``gradx.assert_gradients(fn, *inputs)``."""

from __future__ import annotations

import inspect
import time
from typing import Any

import torch

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
) -> CheckReport:
    """Check autograd's gradients of ``fn`` at ``inputs`` against finite differences.

    ``fn`` is a function, a ``torch.autograd.Function`` subclass (called through ``.apply``),
    or an ``nn.Module`` instance (checked with respect to its inputs and every trainable
    parameter). Floating-point tensors among ``inputs`` and ``kwargs`` are differentiated; other
    values are passed unchanged. Without inputs, seeded random scalars are drawn for each tensor
    parameter, as ``gradx check`` does (``samples`` draws). ``dtype`` converts the tensors
    (default: keep float32 tensors float32, with float32 tolerances). ``order=2`` also checks
    double backward. ``method`` is "auto", "full" (every Jacobian entry) or "projections".

    Returns a CheckReport: ``report.ok``, ``report.verdict``, ``print(report)``.
    """
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
        samples=samples if not inputs and not kwargs else 1, order=order, method=method,
    )  # fmt: skip
    label = name or getattr(fn, "__name__", None) or type(fn).__name__
    start = time.perf_counter()
    if inputs or kwargs or isinstance(fn, torch.nn.Module):
        convert = torch_dtype if dtype is not None else None

        def make(sample: int, positive: bool):
            return inputs_from_values(fn, inputs, kwargs, dtype=convert)

        kind = _kind(fn)
        result = check_with(make, label, kind, _line(fn), settings, samples=1)
    else:
        target = target_from_object(fn, label)

        def make(sample: int, positive: bool):
            return make_inputs(
                target, seed=seed, sample=sample, dtype=torch_dtype, positive=positive
            )

        result = check_with(make, label, target.kind, target.line, settings)
    return CheckReport(targets=(result,), settings=settings, seconds=time.perf_counter() - start)


def assert_gradients(fn: Any, *inputs: Any, **options: Any) -> CheckReport:
    """Like ``check``, but raise AssertionError with the readable report unless all is well.

    Points where the function has no derivative (kinks) do not fail the assertion; pass
    ``allow_nondifferentiable=False`` to make them fail too.
    """
    allow_kinks = options.pop("allow_nondifferentiable", True)
    report = check(fn, *inputs, **options)
    from gradx.commands.check.model import Verdict

    bad = not report.ok or (not allow_kinks and report.verdict is Verdict.NONDIFFERENTIABLE)
    if bad:
        raise AssertionError(f"gradients do not match:\n{report}")
    return report


def _dtype(dtype: Any, inputs: tuple, kwargs: dict | None) -> DType:
    """The dtype asked for (a name or a torch dtype), else float32 when every input is float32."""
    if dtype is not None:
        return DType.parse(dtype, "dtype")
    floats = [
        v.dtype
        for v in (*inputs, *(kwargs or {}).values())
        if isinstance(v, torch.Tensor) and v.is_floating_point()
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
