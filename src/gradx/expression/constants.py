"""Float evaluation of variable-free expression trees with the ``math`` module.

Used for exponent limits in the parser and for point values such as ``--at x=pi/4``. It never
raises for domain errors or overflow: those give nan or inf, which the callers refuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradx.expression.tree import Constant, Node, Number, Variable
from gradx.expression.vocabulary import CONSTANTS, SELU_ALPHA, SELU_SCALE


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


def _softplus(a: float, beta: float = 1.0, threshold: float = 20.0) -> float:
    """torch's softplus: x where beta*x > threshold, else log(1 + exp(beta*x))/beta."""
    z = beta * a
    if z > threshold:
        return a
    return (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) / beta


def _sigmoid(a: float) -> float:
    return 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))


def _log(a: float, b: float | None = None) -> float:
    if b is None:
        return math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
    return _div(_log(a), _log(b))


def _clamp(a: float, lo: float, hi: float) -> float:
    return min(max(a, lo), hi)


def _elu(a: float, alpha: float) -> float:
    return a if a > 0 else alpha * math.expm1(a)


def _logsigmoid(a: float) -> float:
    return min(a, 0.0) - math.log1p(math.exp(-abs(a)))


def _erfinv(y: float) -> float:
    """Inverse of math.erf by Newton's method (math has no erfinv)."""
    if not -1 < y < 1:
        return math.copysign(math.inf, y) if abs(y) == 1 else math.nan
    x = 0.0
    for _ in range(100):
        step = (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) <= 1e-17 * max(1.0, abs(x)):
            break
    return x


def _digamma(a: float) -> float:
    """psi(a) by the recurrence psi(a) = psi(a + 1) - 1/a and the asymptotic series."""
    if a <= 0 and a == math.floor(a):
        return math.nan
    if a < 0:  # reflection: psi(1 - a) - psi(a) = pi cot(pi a)
        return _digamma(1 - a) - math.pi / math.tan(math.pi * a)
    total = 0.0
    while a < 10:
        total -= 1 / a
        a += 1
    inv2 = 1 / (a * a)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return total + math.log(a) - 0.5 / a - series


def _inverse(fn: Callable[[float], float]) -> Callable[[float], float]:
    return lambda a: fn(_div(1.0, a))


MATH_FUNCTIONS: dict[str, Callable[..., float]] = {
    name: _safe(fn)
    for name, fn in {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": _div,
        "pow": _pow,
        "neg": lambda a: -a,
        "where": lambda c, a, b: a if c else b,
        "lt": lambda a, b: float(a < b),
        "le": lambda a, b: float(a <= b),
        "gt": lambda a, b: float(a > b),
        "ge": lambda a, b: float(a >= b),
        "eq": lambda a, b: float(a == b),
        "ne": lambda a, b: float(a != b),
        "and": lambda a, b: float(bool(a) and bool(b)),
        "or": lambda a, b: float(bool(a) or bool(b)),
        "not": lambda a: float(not a),
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
        "elu": _elu,
        "selu": lambda a: SELU_SCALE * _elu(a, SELU_ALPHA),
        "celu": lambda a, alpha: max(0.0, a) + min(0.0, alpha * math.expm1(a / alpha)),
        "leaky_relu": lambda a, slope: a if a > 0 else slope * a,
        "relu6": lambda a: _clamp(a, 0.0, 6.0),
        "hardtanh": _clamp,
        "hardsigmoid": lambda a: _clamp(a + 3, 0.0, 6.0) / 6,
        "hardswish": lambda a: a * _clamp(a + 3, 0.0, 6.0) / 6,
        "softsign": lambda a: a / (1 + abs(a)),
        "logsigmoid": _logsigmoid,
        "mish": lambda a: a * math.tanh(_softplus(a)),
        "tanhshrink": lambda a: a - math.tanh(a),
        "softshrink": lambda a, lambd: (
            a - lambd if a > lambd else (a + lambd if a < -lambd else 0.0)
        ),
        "hardshrink": lambda a, lambd: a if abs(a) > lambd else 0.0,
        "erfc": math.erfc,
        "erfinv": _erfinv,
        "lgamma": lambda a: math.inf if a <= 0 and a == math.floor(a) else math.lgamma(a),
        "digamma": _digamma,
        "sinc": lambda a: 1.0 if a == 0 else math.sin(math.pi * a) / (math.pi * a),
        "logit": lambda a: _log(_div(a, 1 - a)),
        "xlogy": lambda a, b: 0.0 if a == 0 else a * _log(b),
        "sech": lambda a: 0.0 if abs(a) > 710 else 1 / math.cosh(a),
        "csch": lambda a: _div(1.0, math.sinh(a)) if abs(a) <= 710 else 0.0,
        "coth": lambda a: _div(1.0, math.tanh(a)),
        "acot": lambda a: math.atan(_div(1.0, a)),
        "asec": _inverse(math.acos),
        "acsc": _inverse(math.asin),
        "asech": _inverse(math.acosh),
        "acsch": _inverse(math.asinh),
        "acoth": _inverse(math.atanh),
        # Reductions of one number (the parser refuses dot of a constant: torch.dot
        # refuses numbers).
        "sum": lambda a: a,
        "mean": lambda a: a,
        "dot": lambda a, b: math.nan,
        "norm": lambda a, p: abs(a),
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
