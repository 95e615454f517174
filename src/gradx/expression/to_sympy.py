"""The symbolic meaning of the intermediate form: build a sympy expression from the tree.

Symbols are declared real, so that derivatives of ``abs``, ``sign`` and friends come out as
``sign``, ``Heaviside`` and ``DiracDelta`` instead of expressions in ``re`` and ``im``. User text
never reaches sympy: only the validated tree does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import sympy as sp

from gradx.expression.tree import Constant, Node, Number, ParsedExpression, Variable
from gradx.expression.vocabulary import SELU_ALPHA, SELU_SCALE


def _cbrt(a: Any) -> Any:
    # sympy's cbrt is the principal (complex) root; torch users mean the real one.
    return sp.sign(a) * sp.Abs(a) ** sp.Rational(1, 3)


def _sigmoid(a: Any) -> Any:
    return 1 / (1 + sp.exp(-a))


def _elu(a: Any, alpha: Any) -> Any:
    return sp.Piecewise((a, a > 0), (alpha * (sp.exp(a) - 1), True))


def _softplus(a: Any) -> Any:
    return sp.log(1 + sp.exp(a))


def _clamp(a: Any, lo: Any, hi: Any) -> Any:
    return sp.Min(sp.Max(a, lo), hi)


SYMPY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    # where is the true piecewise function: its derivative is the derivative of the taken
    # branch, which is what torch.where's backward should give (and gives NaN instead when the
    # untaken branch has a NaN gradient).
    "where": lambda c, a, b: sp.Piecewise((a, c), (b, True)),
    "lt": sp.Lt,
    "le": sp.Le,
    "gt": sp.Gt,
    "ge": sp.Ge,
    "eq": sp.Eq,
    "ne": sp.Ne,
    "and": sp.And,
    "or": sp.Or,
    "not": sp.Not,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "cot": sp.cot,
    "sec": sp.sec,
    "csc": sp.csc,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "atan2": sp.atan2,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "exp": sp.exp,
    "log": lambda a, b=None: sp.log(a) if b is None else sp.log(a) / sp.log(b),
    "log2": lambda a: sp.log(a) / sp.log(2),
    "log10": lambda a: sp.log(a) / sp.log(10),
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "sqrt": sp.sqrt,
    "cbrt": _cbrt,
    "abs": sp.Abs,
    "sign": sp.sign,
    "floor": sp.floor,
    "ceil": sp.ceiling,
    "min": sp.Min,
    "max": sp.Max,
    "clamp": lambda a, lo, hi: sp.Min(sp.Max(a, lo), hi),
    "relu": lambda a: sp.Max(0, a),
    "sigmoid": _sigmoid,
    # torch's function: it returns x where beta*x > threshold (a jump of
    # log(1 + exp(-threshold))/beta there), in its forward and its backward alike.
    "softplus": lambda a, beta, threshold: sp.Piecewise(
        (_softplus(beta * a) / beta, beta * a <= threshold), (a, True)
    ),
    "gelu": lambda a: a * (1 + sp.erf(a / sp.sqrt(2))) / 2,
    "silu": lambda a: a * _sigmoid(a),
    "erf": sp.erf,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2),
    # The true functions (Piecewise, Min, Max), so that kinks are kinks and jumps are jumps.
    "elu": _elu,
    "selu": lambda a: sp.Float(SELU_SCALE, 30) * _elu(a, sp.Float(SELU_ALPHA, 30)),
    "celu": lambda a, alpha: sp.Max(0, a) + sp.Min(0, alpha * (sp.exp(a / alpha) - 1)),
    "leaky_relu": lambda a, slope: sp.Piecewise((a, a > 0), (slope * a, True)),
    "relu6": lambda a: _clamp(a, 0, 6),
    "hardtanh": _clamp,
    "hardsigmoid": lambda a: _clamp(a + 3, 0, 6) / 6,
    "hardswish": lambda a: a * _clamp(a + 3, 0, 6) / 6,
    "softsign": lambda a: a / (1 + sp.Abs(a)),
    "logsigmoid": lambda a: -_softplus(-a),
    "mish": lambda a: a * sp.tanh(_softplus(a)),
    "tanhshrink": lambda a: a - sp.tanh(a),
    "softshrink": lambda a, lambd: sp.Piecewise(
        (a - lambd, a > lambd), (a + lambd, a < -lambd), (0, True)
    ),
    "hardshrink": lambda a, lambd: sp.Piecewise((a, sp.Abs(a) > lambd), (0, True)),
    "erfc": sp.erfc,
    "erfinv": sp.erfinv,
    # loggamma is complex for negative x in sympy; its real part is torch's lgamma, and its
    # derivative, polygamma(0, x), is real: the evaluator takes the real part.
    "lgamma": sp.loggamma,
    "digamma": sp.digamma,
    # sympy's sinc is sin(x)/x; torch's is normalised.
    "sinc": lambda a: sp.sinc(sp.pi * a),
    "logit": lambda a: sp.log(a / (1 - a)),
    "xlogy": lambda a, b: a * sp.log(b),
    "sech": sp.sech,
    "csch": sp.csch,
    "coth": sp.coth,
    "acot": sp.acot,
    "asec": sp.asec,
    "acsc": sp.acsc,
    "asech": sp.asech,
    "acsch": sp.acsch,
    "acoth": sp.acoth,
}

_CONSTANTS = {"pi": sp.pi, "e": sp.E}


@cache
def symbol(name: str) -> sp.Symbol:
    """The real sympy symbol for a variable name."""
    return sp.Symbol(name, real=True)


def to_sympy(parsed: ParsedExpression) -> sp.Expr:
    """The sympy expression of a parsed expression."""
    return _convert(parsed.root)


def _convert(node: Node) -> Any:
    if isinstance(node, Number):
        return sp.Rational(node.exact.numerator, node.exact.denominator)
    if isinstance(node, Constant):
        return _CONSTANTS[node.name]
    if isinstance(node, Variable):
        return symbol(node.name)
    args = [_convert(a) for a in node.args]
    try:
        return SYMPY_FUNCTIONS[node.function](*args)
    except (ValueError, TypeError):
        # sympy's Min/Max refuse a non-real constant ("acos(2) is not comparable"): the
        # function is undefined for real numbers there, as torch's NaN says.
        return sp.nan


# Derivatives of nested expressions grow combinatorially (sin nested 40 deep: 861 nodes at
# order 1, 36,041 at order 2, 759,361 at order 3, after 15 s). Differentiation stops before a
# step whose input is already this large, and a result larger than the second limit is dropped.
MAX_NODES_TO_DIFFERENTIATE = 4_000
MAX_DERIVATIVE_NODES = 40_000


class DerivativeTooLarge(Exception):
    """The symbolic derivative would be too large to compute or evaluate in reasonable time."""


def size(expr: sp.Expr, limit: int) -> int:
    """The number of nodes of ``expr``, counting stops just past ``limit``."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def derivative(expr: sp.Expr, key: tuple[str, ...]) -> sp.Expr:
    """The symbolic derivative of ``expr`` with respect to the variables in ``key``, in order.

    Raises ``DerivativeTooLarge`` instead of running for minutes on expressions whose
    derivatives explode in size.
    """
    result = expr
    for name in key:
        if size(result, MAX_NODES_TO_DIFFERENTIATE) > MAX_NODES_TO_DIFFERENTIATE:
            raise DerivativeTooLarge(
                f"more than {MAX_NODES_TO_DIFFERENTIATE:,} terms to differentiate"
            )
        try:
            result = sp.diff(result, symbol(name))
        except RecursionError:
            # sympy recurses once per level of nesting (sin nested 140 deep is too deep for it);
            # the torch and numeric sides still work, so only the symbolic side is skipped.
            raise DerivativeTooLarge("a nesting too deep for sympy") from None
    if size(result, MAX_DERIVATIVE_NODES) > MAX_DERIVATIVE_NODES:
        raise DerivativeTooLarge(f"more than {MAX_DERIVATIVE_NODES:,} terms")
    return result
