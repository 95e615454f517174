"""Float evaluation of variable-free expression trees with the ``math`` module.

Used for exponent limits in the parser and for point values such as ``--at x=pi/4``. It never
raises for domain errors or overflow: those give nan or inf, which the callers refuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradx.expression.tree import Constant, Node, Number, Variable
from gradx.expression.vocabulary import CONSTANTS


def _safe(fn: Any) -> Callable[..., float]:  # Any: a dict of lambdas of mixed arity
    def wrapped(*args: float) -> float:
        if any(math.isnan(a) for a in args):
            return math.nan
        try:
            return float(fn(*args))
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            return math.nan

    return wrapped


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def _pow(a: float, b: float) -> float:
    if a < 0 and b != int(b):
        return math.nan
    if a == 0 and b < 0:
        return math.inf
    return math.pow(a, b)


def _sign(a: float) -> float:
    return float((a > 0) - (a < 0))


def _softplus(a: float) -> float:
    return a if a > 20 else math.log1p(math.exp(a))


def _sigmoid(a: float) -> float:
    return 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))


def _log(a: float, b: float | None = None) -> float:
    if b is None:
        return math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
    return _div(_log(a), _log(b))


MATH_FUNCTIONS: dict[str, Callable[..., float]] = {
    name: _safe(fn)
    for name, fn in {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": _div,
        "pow": _pow,
        "neg": lambda a: -a,
        "sin": math.sin,
        "cos": math.cos,
        "tan": math.tan,
        "cot": lambda a: _div(1.0, math.tan(a)),
        "sec": lambda a: _div(1.0, math.cos(a)),
        "csc": lambda a: _div(1.0, math.sin(a)),
        "asin": math.asin,
        "acos": math.acos,
        "atan": math.atan,
        "atan2": math.atan2,
        "sinh": math.sinh,
        "cosh": math.cosh,
        "tanh": math.tanh,
        "asinh": math.asinh,
        "acosh": math.acosh,
        "atanh": math.atanh,
        "exp": math.exp,
        "log": _log,
        "log2": lambda a: _div(_log(a), math.log(2)),
        "log10": lambda a: _div(_log(a), math.log(10)),
        "log1p": lambda a: _log(1 + a),
        "expm1": math.expm1,
        "sqrt": math.sqrt,
        "cbrt": lambda a: _sign(a) * abs(a) ** (1 / 3),
        "abs": abs,
        "sign": _sign,
        "floor": math.floor,
        "ceil": math.ceil,
        "min": min,
        "max": max,
        "clamp": lambda a, lo, hi: min(max(a, lo), hi),
        "relu": lambda a: max(a, 0.0),
        "sigmoid": _sigmoid,
        "softplus": _softplus,
        "gelu": lambda a: 0.5 * a * (1 + math.erf(a / math.sqrt(2))),
        "silu": lambda a: a * _sigmoid(a),
        "erf": math.erf,
        "hypot": math.hypot,
    }.items()
}


def constant_value(node: Node) -> float:
    """The float value of a tree without variables (nan or inf where undefined or too large)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Constant):
        return CONSTANTS[node.name]
    if isinstance(node, Variable):
        raise ValueError(f"variable {node.name!r} has no constant value")
    return MATH_FUNCTIONS[node.function](*(constant_value(a) for a in node.args))
