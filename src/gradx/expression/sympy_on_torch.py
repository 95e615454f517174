"""Numeric evaluation of sympy expressions on torch tensors, without ``lambdify``.

``lambdify`` prints code and ``exec``s it, and its torch printer fails on ``Heaviside``,
``Max`` with constants and ``DiracDelta``. This walker maps sympy node classes straight to torch
operations, caches repeated subexpressions (so derivatives with shared parts are computed once)
and gives the distributions that appear in derivatives of non-smooth functions their values
away from their support: ``DiracDelta(u)`` is 0 where ``u != 0`` and infinite at ``u == 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp
import torch

Tensor = torch.Tensor


class SymbolicUnsupported(Exception):
    """The expression contains a sympy construct this evaluator cannot compute."""


_UNARY: dict[type, Callable[[Tensor], Tensor]] = {
    sp.sin: torch.sin,
    sp.cos: torch.cos,
    sp.tan: torch.tan,
    sp.cot: lambda a: 1 / torch.tan(a),
    sp.sec: lambda a: 1 / torch.cos(a),
    sp.csc: lambda a: 1 / torch.sin(a),
    sp.asin: torch.asin,
    sp.acos: torch.acos,
    sp.atan: torch.atan,
    sp.acot: lambda a: torch.atan(1 / a),
    sp.sinh: torch.sinh,
    sp.cosh: torch.cosh,
    sp.tanh: torch.tanh,
    sp.coth: lambda a: 1 / torch.tanh(a),
    sp.sech: lambda a: 1 / torch.cosh(a),
    sp.csch: lambda a: 1 / torch.sinh(a),
    sp.asinh: torch.asinh,
    sp.acosh: torch.acosh,
    sp.atanh: torch.atanh,
    sp.exp: torch.exp,
    sp.Abs: torch.abs,
    sp.sign: torch.sign,
    sp.floor: torch.floor,
    sp.ceiling: torch.ceil,
    sp.erf: torch.erf,
    sp.erfc: torch.erfc,
    sp.erfinv: torch.erfinv,
    sp.loggamma: torch.lgamma,  # the real part: log|gamma(x)|
    sp.sinc: lambda a: torch.sinc(a / math.pi),  # sympy's sinc is unnormalised
    sp.asec: lambda a: torch.acos(1 / a),
    sp.acsc: lambda a: torch.asin(1 / a),
    sp.asech: lambda a: torch.acosh(1 / a),
    sp.acsch: lambda a: torch.asinh(1 / a),
    sp.acoth: lambda a: torch.atanh(1 / a),
}

_RELATIONS: dict[type, Callable[[Tensor, Tensor], Tensor]] = {
    sp.StrictLessThan: torch.lt,
    sp.LessThan: torch.le,
    sp.StrictGreaterThan: torch.gt,
    sp.GreaterThan: torch.ge,
    sp.Equality: torch.eq,
    sp.Unequality: torch.ne,
}


def evaluate_sympy(expr: Any, env: Mapping[str, Tensor], dtype: torch.dtype) -> Tensor:
    """Evaluate ``expr`` with each free symbol replaced by ``env[symbol.name]``.

    Raises ``SymbolicUnsupported`` for constructs with no numeric meaning here (for instance an
    unevaluated derivative of an unknown function).
    """
    evaluator = _Evaluator(env, dtype)
    try:
        result = evaluator.value(expr)
    except RecursionError:
        raise SymbolicUnsupported("nested too deeply to evaluate") from None
    if not isinstance(result, Tensor):
        result = torch.tensor(result, dtype=dtype)
    if not env:
        return result.to(dtype)
    # torch.broadcast_tensors, not torch.broadcast_shapes: the latter imports torch.fx's
    # symbolic shapes on first use (about 0.3 s of a one-point ``gradx eval``).
    return torch.broadcast_tensors(result.to(dtype), *env.values())[0]


class _Evaluator:
    def __init__(self, env: Mapping[str, Tensor], dtype: torch.dtype) -> None:
        self.env = env
        self.dtype = dtype
        self.cache: dict[Any, Tensor] = {}

    def const(self, value: float) -> Tensor:
        return torch.tensor(value, dtype=self.dtype)

    def value(self, expr: Any) -> Tensor:
        cached = self.cache.get(expr)
        if cached is None:
            cached = self.compute(expr)
            self.cache[expr] = cached
        return cached

    def compute(self, expr: Any) -> Tensor:
        if isinstance(expr, sp.Symbol):
            try:
                return self.env[expr.name]
            except KeyError:
                raise SymbolicUnsupported(f"no value for symbol {expr.name}") from None
        if not expr.free_symbols and not isinstance(expr, sp.Piecewise | sp.logic.boolalg.Boolean):
            return self.const(_constant_float(expr))
        if isinstance(expr, sp.Add):
            return _sum([self.value(a) for a in expr.args])
        if isinstance(expr, sp.Mul):
            return _product([self.value(a) for a in expr.args])
        if isinstance(expr, sp.Pow):
            return self.power(expr)
        head = type(expr)
        if head in _UNARY and len(expr.args) == 1:
            return _UNARY[head](self.value(expr.args[0]))
        if isinstance(expr, sp.log):
            return torch.log(self.value(expr.args[0]))
        if isinstance(expr, sp.atan2):
            return torch.atan2(self.value(expr.args[0]), self.value(expr.args[1]))
        if isinstance(expr, sp.polygamma):
            order = expr.args[0]
            if order.is_Integer and int(order) >= 0:
                return torch.polygamma(int(order), self.value(expr.args[1]))
            raise SymbolicUnsupported(f"cannot evaluate {expr} numerically")
        if isinstance(expr, sp.Max):
            return _fold(torch.maximum, [self.value(a) for a in expr.args])
        if isinstance(expr, sp.Min):
            return _fold(torch.minimum, [self.value(a) for a in expr.args])
        if isinstance(expr, sp.Heaviside):
            return self.heaviside(expr)
        if isinstance(expr, sp.DiracDelta):
            return self.dirac(expr)
        if isinstance(expr, sp.Piecewise):
            return self.piecewise(expr)
        if isinstance(expr, sp.Derivative):
            return self.derivative(expr)
        # Values here are real wherever they are defined (NaN elsewhere), so the real part is
        # the value and the imaginary part 0; sympy emits these for acos, asin... of real x.
        if isinstance(expr, sp.re | sp.conjugate):
            return self.value(expr.args[0])
        if isinstance(expr, sp.im):
            return torch.zeros_like(self.value(expr.args[0]))
        if isinstance(expr, sp.arg):
            arg = self.value(expr.args[0])
            return torch.where(arg < 0, self.const(math.pi), self.const(0.0))
        if head in _RELATIONS:
            return _RELATIONS[head](self.value(expr.args[0]), self.value(expr.args[1]))
        if isinstance(expr, sp.And):
            return _fold(torch.logical_and, [self.value(a) for a in expr.args])
        if isinstance(expr, sp.Or):
            return _fold(torch.logical_or, [self.value(a) for a in expr.args])
        if isinstance(expr, sp.Not):
            return torch.logical_not(self.value(expr.args[0]))
        if expr is sp.true:
            return torch.tensor(True)
        if expr is sp.false:
            return torch.tensor(False)
        raise SymbolicUnsupported(f"cannot evaluate {type(expr).__name__} numerically")

    def power(self, expr: sp.Pow) -> Tensor:
        base, exponent = expr.args
        if exponent.is_Number and not exponent.free_symbols:
            e = float(exponent)
            if e == -1:
                return 1 / self.value(base)
            if e == 0.5:
                return torch.sqrt(self.value(base))
            return torch.pow(self.value(base), int(e) if e.is_integer() else e)
        return torch.pow(self.value(base), self.value(exponent))

    def heaviside(self, expr: Any) -> Tensor:
        arg = self.value(expr.args[0])
        at_zero = self.value(expr.args[1]) if len(expr.args) > 1 else self.const(0.5)
        one, zero = self.const(1.0), self.const(0.0)
        return torch.where(arg > 0, one, torch.where(arg < 0, zero, at_zero.to(self.dtype)))

    def dirac(self, expr: Any) -> Tensor:
        arg = self.value(expr.args[0])
        at_zero = math.inf if len(expr.args) == 1 else math.nan
        return torch.where(arg == 0, self.const(at_zero), self.const(0.0))

    def piecewise(self, expr: Any) -> Tensor:
        result: Tensor = self.const(math.nan)
        for piece, condition in reversed(expr.args):
            result = torch.where(self.value(condition), self.value(piece), result)
        return result

    def derivative(self, expr: Any) -> Tensor:
        inner = expr.expr
        # Piecewise-constant functions: derivative 0 away from their jumps, undefined at them.
        if isinstance(inner, sp.floor | sp.ceiling):
            arg = self.value(inner.args[0])
            return torch.where(arg == torch.round(arg), self.const(math.nan), self.const(0.0))
        if isinstance(inner, sp.sign | sp.Heaviside):
            arg = self.value(inner.args[0])
            return torch.where(arg == 0, self.const(math.nan), self.const(0.0))
        raise SymbolicUnsupported(f"cannot evaluate the unevaluated derivative {expr}")


def _constant_float(expr: Any) -> float:
    if expr is sp.nan or expr is sp.zoo:
        return math.nan
    if expr is sp.oo:
        return math.inf
    if expr is sp.S.NegativeInfinity:
        return -math.inf
    if isinstance(expr, sp.logic.boolalg.BooleanAtom):
        return 1.0 if expr else 0.0
    try:
        value = complex(expr.evalf(20))
    except (TypeError, ValueError, OverflowError):
        return math.nan
    if abs(value.imag) > 1e-15 * max(1.0, abs(value.real)):
        return math.nan
    return value.real


def _sum(values: list[Tensor]) -> Tensor:
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _product(values: list[Tensor]) -> Tensor:
    total = values[0]
    for v in values[1:]:
        total = total * v
    return total


def _fold(op: Callable[[Tensor, Tensor], Tensor], values: list[Tensor]) -> Tensor:
    total = values[0]
    for v in values[1:]:
        total = op(total, v)
    return total
