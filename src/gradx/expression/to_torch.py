"""The numeric meaning of the intermediate form: evaluate the tree with torch operations.

Each name maps to the torch operation a PyTorch user would write, so autograd through it gives
exactly what torch gives (``relu'(0) = 0``, ``sqrt(x**2)`` has a NaN gradient at 0, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from gradx.expression.tree import Constant, Node, Number, Variable
from gradx.expression.vocabulary import CONSTANTS

Tensor = torch.Tensor


class _RealCubeRoot(torch.autograd.Function):
    """Real cube root with the derivative 1/(3 cbrt(x)^2): infinite, not NaN, at 0."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        y = torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return grad / (3.0 * y * y)


def _clamp(a: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    return torch.clamp(a, min=lo, max=hi)


def _fold(op: Callable[[Tensor, Tensor], Tensor]) -> Callable[..., Tensor]:
    def folded(*args: Tensor) -> Tensor:
        result = args[0]
        for arg in args[1:]:
            result = op(result, arg)
        return result

    return folded


def _log(a: Tensor, b: Tensor | None = None) -> Tensor:
    return torch.log(a) if b is None else torch.log(a) / torch.log(b)


def _hardsigmoid(a: Tensor) -> Tensor:
    # F.hardsigmoid has no second derivative in torch ("derivative for
    # aten::hardsigmoid_backward is not implemented"); relu6(x + 3)/6 has the same values and
    # the same first derivative, 0 at -3 and 3 as in torch, and can be differentiated again.
    return F.relu6(a + 3) / 6


def _dot(a: Tensor, b: Tensor) -> Tensor:
    if a.dim() != 1 or b.dim() != 1 or a.shape != b.shape:
        from gradx.errors import GradxError

        raise GradxError(
            "dot(a, b) needs two vectors (1-D tensors) of the same length, as torch.dot does; "
            f"got shapes {_shape(a)} and {_shape(b)}"
        )
    return torch.dot(a, b)


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(str(n) for n in t.shape) + ("," if t.dim() == 1 else "") + ")"


def _param(t: Tensor) -> float:
    """A constant parameter (the parser made sure it is one) as the float torch expects."""
    return float(t)


TORCH_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "pow": torch.pow,
    "neg": torch.neg,
    "where": torch.where,
    "lt": torch.lt,
    "le": torch.le,
    "gt": torch.gt,
    "ge": torch.ge,
    "eq": torch.eq,
    "ne": torch.ne,
    "and": torch.logical_and,
    "or": torch.logical_or,
    "not": torch.logical_not,
    "sin": torch.sin,
    "cos": torch.cos,
    "tan": torch.tan,
    "cot": lambda a: 1 / torch.tan(a),
    "sec": lambda a: 1 / torch.cos(a),
    "csc": lambda a: 1 / torch.sin(a),
    "asin": torch.asin,
    "acos": torch.acos,
    "atan": torch.atan,
    "atan2": torch.atan2,
    "sinh": torch.sinh,
    "cosh": torch.cosh,
    "tanh": torch.tanh,
    "asinh": torch.asinh,
    "acosh": torch.acosh,
    "atanh": torch.atanh,
    "exp": torch.exp,
    "log": _log,
    "log2": torch.log2,
    "log10": torch.log10,
    "log1p": torch.log1p,
    "expm1": torch.expm1,
    "sqrt": torch.sqrt,
    "cbrt": _RealCubeRoot.apply,
    "abs": torch.abs,
    "sign": torch.sign,
    "floor": torch.floor,
    "ceil": torch.ceil,
    "min": _fold(torch.minimum),
    "max": _fold(torch.maximum),
    "clamp": _clamp,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "softplus": lambda a, beta, threshold: F.softplus(a, _param(beta), _param(threshold)),
    "gelu": F.gelu,
    "silu": F.silu,
    "erf": torch.erf,
    "hypot": torch.hypot,
    "elu": lambda a, alpha: F.elu(a, _param(alpha)),
    "selu": F.selu,
    "celu": lambda a, alpha: F.celu(a, _param(alpha)),
    "leaky_relu": lambda a, slope: F.leaky_relu(a, _param(slope)),
    "relu6": F.relu6,
    "hardtanh": lambda a, lo, hi: F.hardtanh(a, _param(lo), _param(hi)),
    "hardsigmoid": _hardsigmoid,
    "hardswish": F.hardswish,
    "softsign": F.softsign,
    "logsigmoid": F.logsigmoid,
    "mish": F.mish,
    "tanhshrink": F.tanhshrink,
    "softshrink": lambda a, lambd: F.softshrink(a, _param(lambd)),
    "hardshrink": lambda a, lambd: F.hardshrink(a, _param(lambd)),
    "erfc": torch.erfc,
    "erfinv": torch.erfinv,
    "lgamma": torch.lgamma,
    "digamma": torch.digamma,
    "sinc": torch.sinc,
    "logit": torch.logit,
    "xlogy": torch.xlogy,
    "sech": lambda a: 1 / torch.cosh(a),
    "csch": lambda a: 1 / torch.sinh(a),
    "coth": lambda a: 1 / torch.tanh(a),
    "acot": lambda a: torch.atan(1 / a),
    "asec": lambda a: torch.acos(1 / a),
    "acsc": lambda a: torch.asin(1 / a),
    "asech": lambda a: torch.acosh(1 / a),
    "acsch": lambda a: torch.asinh(1 / a),
    "acoth": lambda a: torch.atanh(1 / a),
    # Reductions (vocabulary.REDUCTIONS): whole tensors to one number, for gradx graph.
    "sum": torch.sum,
    "mean": torch.mean,
    "dot": _dot,
    "norm": lambda a, p: torch.linalg.vector_norm(a, ord=_param(p)),
}


def evaluate(
    node: Node,
    env: Mapping[str, Tensor],
    dtype: torch.dtype,
    trace: dict[int, Tensor] | None = None,
) -> Tensor:
    """Evaluate a tree on tensors; ``env`` maps each variable to a tensor (all broadcastable).

    Constants become 0-d tensors of ``dtype``, except literal exponents, which stay Python
    numbers so that ``x**2`` is the same operation as in a user's torch code. When ``trace`` is
    given it receives the value of every call node, keyed by ``id(node)``.
    """
    if isinstance(node, Variable):
        return env[node.name]
    if isinstance(node, Number):
        return torch.tensor(node.value, dtype=dtype)
    if isinstance(node, Constant):
        return torch.tensor(CONSTANTS[node.name], dtype=dtype)
    if node.function == "pow" and isinstance(node.args[1], Number):
        base = evaluate(node.args[0], env, dtype, trace)
        exponent = node.args[1].value
        result = torch.pow(base, int(exponent) if exponent.is_integer() else exponent)
    else:
        args = [evaluate(a, env, dtype, trace) for a in node.args]
        result = TORCH_FUNCTIONS[node.function](*args)
    if trace is not None:
        trace[id(node)] = result
    return result
