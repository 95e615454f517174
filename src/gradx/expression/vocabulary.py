"""The expression language's vocabulary, as data: functions, aliases, constants and limits.

No torch or sympy here. The numeric and symbolic meaning of each name lives in
``to_torch.py`` and ``to_sympy.py``; a test checks that every name below has both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Equals:
    """Argument ``arg`` (0-based) equals ``value``."""

    arg: int
    value: float


@dataclass(frozen=True)
class EqualsArg:
    """Argument ``arg`` equals ``factor`` times argument ``other`` (a bound or a parameter),
    divided by argument ``divisor`` when there is one (softplus: x = threshold/beta)."""

    arg: int
    other: int
    factor: float = 1.0
    divisor: int | None = None

    def target(self, args: Sequence[Any]) -> Any:
        """The value argument ``arg`` is compared with (numbers or tensors alike)."""
        value = self.factor * args[self.other]
        return value if self.divisor is None else value / args[self.divisor]


@dataclass(frozen=True)
class AtMost:
    """Argument ``arg`` is at most ``value`` (closed, so a point next to it counts)."""

    arg: int
    value: float


@dataclass(frozen=True)
class IsInteger:
    """Argument ``arg`` is an integer (``negate``: is not one)."""

    arg: int
    negate: bool = False


@dataclass(frozen=True)
class AnyTwoEqual:
    """Two of the (any number of) arguments are equal."""


Condition = Equals | EqualsArg | AtMost | IsInteger | AnyTwoEqual
# A breakpoint holds where all its conditions hold; a function is non-smooth where any does.
Breakpoint = tuple[Condition, ...]


@dataclass(frozen=True)
class Parameter:
    """An optional trailing argument that must be a constant number (torch takes a float)."""

    name: str
    default: float
    at_least: float | None = None
    nonzero: bool = False
    keyword: str = ""  # torch's keyword, when it differs from ``name``


@dataclass(frozen=True)
class FunctionSpec:
    """One callable name of the expression language."""

    name: str
    min_args: int
    max_args: int
    summary: str
    # Where the function is continuous but not differentiable, or jumps, in words. Empty when smooth.
    non_smooth: str = ""
    # The same as data: where the kink machinery looks (also where a derivative is singular,
    # such as sqrt at 0). Empty when the function is smooth wherever it is defined.
    breakpoints: tuple[Breakpoint, ...] = ()
    # Optional constant arguments after the min_args ones, with torch's defaults. The parser
    # fills in the defaults, so every backend sees all of them.
    parameters: tuple[Parameter, ...] = ()
    # For hardtanh: the parameters are bounds, the first not above the second.
    ordered_parameters: bool = False
    # "elementwise": a function of numbers, applied to each element (every name of FUNCTIONS);
    # "reduction": a function of whole tensors to one number (REDUCTIONS: gradx graph only).
    kind: str = "elementwise"

    def arity_text(self) -> str:
        """How many arguments the function takes, in words."""
        if self.min_args == self.max_args:
            n = self.min_args
            return f"{n} argument" + ("" if n == 1 else "s")
        if self.max_args >= MAX_VARIADIC:
            return f"{self.min_args} or more arguments"
        return f"{self.min_args} to {self.max_args} arguments"


MAX_VARIADIC = 16

_F = FunctionSpec
_AT_ZERO: tuple[Breakpoint, ...] = ((Equals(0, 0.0),),)
_AT_INTEGERS: tuple[Breakpoint, ...] = ((IsInteger(0),),)
_AT_BOUNDS: tuple[Breakpoint, ...] = ((EqualsArg(0, 1),), (EqualsArg(0, 2),))
_TWO_EQUAL = "kink where two arguments are equal"
_AT_PARAMETER: tuple[Breakpoint, ...] = ((EqualsArg(0, 1),), (EqualsArg(0, 1, -1.0),))
# torch's SELU constants (torch/nn/modules/activation.py).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

FUNCTIONS: dict[str, FunctionSpec] = {
    f.name: f
    for f in (
        _F("sin", 1, 1, "sine"),
        _F("cos", 1, 1, "cosine"),
        _F("tan", 1, 1, "tangent"),
        _F("cot", 1, 1, "cotangent, 1/tan(x)"),
        _F("sec", 1, 1, "secant, 1/cos(x)"),
        _F("csc", 1, 1, "cosecant, 1/sin(x)"),
        _F("asin", 1, 1, "inverse sine, domain [-1, 1]"),
        _F("acos", 1, 1, "inverse cosine, domain [-1, 1]"),
        _F("atan", 1, 1, "inverse tangent"),
        _F(
            "atan2",
            2,
            2,
            "atan2(y, x): angle of the point (x, y)",
            "jumps across x < 0, y = 0",
            ((Equals(0, 0.0), AtMost(1, 0.0)),),
        ),
        _F("sinh", 1, 1, "hyperbolic sine"),
        _F("cosh", 1, 1, "hyperbolic cosine"),
        _F("tanh", 1, 1, "hyperbolic tangent"),
        _F("asinh", 1, 1, "inverse hyperbolic sine"),
        _F("acosh", 1, 1, "inverse hyperbolic cosine, domain [1, inf)"),
        _F("atanh", 1, 1, "inverse hyperbolic tangent, domain (-1, 1)"),
        _F("exp", 1, 1, "exponential"),
        _F("log", 1, 2, "natural logarithm; log(x, b) is the logarithm in base b"),
        _F("log2", 1, 1, "base-2 logarithm"),
        _F("log10", 1, 1, "base-10 logarithm"),
        _F("log1p", 1, 1, "log(1 + x), accurate near 0"),
        _F("expm1", 1, 1, "exp(x) - 1, accurate near 0"),
        _F("sqrt", 1, 1, "square root, domain [0, inf)", "", _AT_ZERO),
        _F("cbrt", 1, 1, "real cube root", "", _AT_ZERO),
        _F("abs", 1, 1, "absolute value", "kink at 0", _AT_ZERO),
        _F("sign", 1, 1, "sign: -1, 0 or 1", "jump at 0", _AT_ZERO),
        _F("floor", 1, 1, "largest integer <= x", "jumps at integers", _AT_INTEGERS),
        _F("ceil", 1, 1, "smallest integer >= x", "jumps at integers", _AT_INTEGERS),
        _F("min", 2, MAX_VARIADIC, "smallest argument", _TWO_EQUAL, ((AnyTwoEqual(),),)),
        _F("max", 2, MAX_VARIADIC, "largest argument", _TWO_EQUAL, ((AnyTwoEqual(),),)),
        _F(
            "clamp",
            3,
            3,
            "clamp(x, lo, hi): x limited to [lo, hi]",
            "kinks at x = lo and x = hi",
            _AT_BOUNDS,
        ),
        _F("relu", 1, 1, "max(0, x)", "kink at 0", _AT_ZERO),
        _F("sigmoid", 1, 1, "logistic function 1/(1 + exp(-x))"),
        _F(
            "softplus",
            1,
            3,
            "log(1 + exp(beta*x))/beta, and x where beta*x > threshold; "
            "softplus(x, beta, threshold), 1 and 20 by default",
            # torch switches to x there, in forward and backward alike: f jumps by
            # log(1 + exp(-threshold))/beta (2e-9 with the defaults) and f' by 1 - sigmoid(threshold)
            "jumps (slightly) at x = threshold/beta, where torch switches to x",
            ((EqualsArg(0, 2, divisor=1),),),
            (Parameter("beta", 1.0, nonzero=True), Parameter("threshold", 20.0)),
        ),
        _F("gelu", 1, 1, "x * Phi(x), the exact (erf) GELU"),
        _F("silu", 1, 1, "x * sigmoid(x)"),
        _F("erf", 1, 1, "error function"),
        _F("pow", 2, 2, "pow(a, b) = a ** b", "", ((Equals(0, 0.0), IsInteger(1, negate=True)),)),
        _F(
            "hypot",
            2,
            2,
            "hypot(a, b) = sqrt(a^2 + b^2)",
            "cone point at a = b = 0",
            ((Equals(0, 0.0), Equals(1, 0.0)),),
        ),
        # Activations of torch.nn.functional, with torch's default parameters.
        _F(
            "elu",
            1,
            2,
            "x for x > 0, alpha*(exp(x) - 1) below; elu(x, alpha), alpha 1 by default",
            "kink at 0 unless alpha = 1",
            _AT_ZERO,
            (Parameter("alpha", 1.0),),
        ),
        _F(
            "selu",
            1,
            1,
            "scale*elu(x, alpha) with torch's fixed alpha 1.6733, scale 1.0507",
            "kink at 0",
            _AT_ZERO,
        ),
        _F(
            "celu",
            1,
            2,
            "max(0, x) + min(0, alpha*(exp(x/alpha) - 1)); alpha 1 by default, not 0",
            "2nd derivative jumps at 0 unless alpha = 1",
            _AT_ZERO,
            (Parameter("alpha", 1.0, nonzero=True),),
        ),
        _F(
            "leaky_relu",
            1,
            2,
            "x for x > 0, slope*x below; leaky_relu(x, slope), slope 0.01 by default",
            "kink at 0",
            _AT_ZERO,
            (Parameter("slope", 0.01, keyword="negative_slope"),),
        ),
        _F(
            "relu6",
            1,
            1,
            "min(max(0, x), 6)",
            "kinks at 0 and 6",
            ((Equals(0, 0.0),), (Equals(0, 6.0),)),
        ),
        _F(
            "hardtanh",
            1,
            3,
            "x limited to [lo, hi]; hardtanh(x, lo, hi), -1 and 1 by default",
            "kinks at lo and hi",
            _AT_BOUNDS,
            (Parameter("lo", -1.0, keyword="min_val"), Parameter("hi", 1.0, keyword="max_val")),
            ordered_parameters=True,
        ),
        _F(
            "hardsigmoid",
            1,
            1,
            "relu6(x + 3)/6",
            "kinks at -3 and 3",
            ((Equals(0, -3.0),), (Equals(0, 3.0),)),
        ),
        _F(
            "hardswish",
            1,
            1,
            "x*relu6(x + 3)/6",
            "kinks at -3 and 3",
            ((Equals(0, -3.0),), (Equals(0, 3.0),)),
        ),
        _F("softsign", 1, 1, "x/(1 + abs(x))", "2nd derivative jumps at 0", _AT_ZERO),
        _F("logsigmoid", 1, 1, "log(sigmoid(x)) = -softplus(-x)"),
        _F("mish", 1, 1, "x*tanh(softplus(x))"),
        _F("tanhshrink", 1, 1, "x - tanh(x)"),
        _F(
            "softshrink",
            1,
            2,
            "x - lambd above lambd, x + lambd below -lambd, 0 between; lambd 0.5 by default",
            "kinks at -lambd and lambd",
            _AT_PARAMETER,
            (Parameter("lambd", 0.5, at_least=0.0),),
        ),
        _F(
            "hardshrink",
            1,
            2,
            "x where abs(x) > lambd, 0 elsewhere; lambd 0.5 by default",
            "jumps at -lambd and lambd",
            _AT_PARAMETER,
            (Parameter("lambd", 0.5, at_least=0.0),),
        ),
        # Special functions.
        _F("erfc", 1, 1, "complementary error function 1 - erf(x)"),
        _F("erfinv", 1, 1, "inverse error function, domain (-1, 1)"),
        _F("lgamma", 1, 1, "log(abs(gamma(x))), poles at 0, -1, -2, ..."),
        _F("digamma", 1, 1, "gamma'(x)/gamma(x), poles at 0, -1, -2, ..."),
        _F("sinc", 1, 1, "sin(pi*x)/(pi*x), 1 at 0 (torch's normalised sinc)"),
        _F("logit", 1, 1, "log(x/(1 - x)), domain (0, 1)"),
        _F("xlogy", 2, 2, "xlogy(x, y) = x*log(y), 0 where x = 0"),
        _F("sech", 1, 1, "hyperbolic secant, 1/cosh(x)"),
        _F("csch", 1, 1, "hyperbolic cosecant, 1/sinh(x)"),
        _F("coth", 1, 1, "hyperbolic cotangent, 1/tanh(x)"),
        _F("acot", 1, 1, "inverse cotangent atan(1/x), in (-pi/2, pi/2]", "jump at 0", _AT_ZERO),
        _F("asec", 1, 1, "inverse secant acos(1/x), domain abs(x) >= 1"),
        _F("acsc", 1, 1, "inverse cosecant asin(1/x), domain abs(x) >= 1"),
        _F("asech", 1, 1, "inverse hyperbolic secant acosh(1/x), domain (0, 1]"),
        _F("acsch", 1, 1, "inverse hyperbolic cosecant asinh(1/x), pole at 0"),
        _F("acoth", 1, 1, "inverse hyperbolic cotangent atanh(1/x), domain abs(x) > 1"),
    )
}

# Tensor reductions, for expressions whose variables are tensors (gradx graph, where --at
# x=0,1,2,3 is a vector). gradx eval's variables are numbers, one per point: there these names
# stay unknown, with what they mean for numbers (NOT_PER_ELEMENT).
REDUCTIONS: dict[str, FunctionSpec] = {
    f.name: f
    for f in (
        _F("sum", 1, 1, "sum(x): the sum of all elements (torch.sum)", kind="reduction"),
        _F("mean", 1, 1, "mean(x): the mean of all elements (torch.mean)", kind="reduction"),
        _F(
            "dot",
            2,
            2,
            "dot(a, b): the dot product of two vectors of equal length (torch.dot)",
            kind="reduction",
        ),
        _F(
            "norm",
            1,
            2,
            "norm(x, p): the p-norm of all elements, p 2 by default (torch.linalg.vector_norm)",
            parameters=(Parameter("p", 2.0, at_least=1.0, keyword="ord"),),
            kind="reduction",
        ),
    )
}

# The comparisons are breakpoints too: where(x > 0, a, b) may kink or jump where x = 0.
COMPARISON_BREAKPOINTS: tuple[Breakpoint, ...] = ((EqualsArg(0, 1),),)


def breakpoints_of(name: str) -> tuple[Breakpoint, ...]:
    """The declared breakpoints of a function or comparison operator (empty: smooth)."""
    if name in ("lt", "le", "gt", "ge", "eq", "ne"):
        return COMPARISON_BREAKPOINTS
    spec = FUNCTIONS.get(name)
    return spec.breakpoints if spec is not None else ()


ALIASES: dict[str, str] = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctan2": "atan2",
    "ln": "log",
    "ceiling": "ceil",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "swish": "silu",
}

CONSTANTS: dict[str, float] = {
    "pi": 3.141592653589793,
    "e": 2.718281828459045,
}

# Names that look like numbers to a user but are refused as input.
REFUSED_NAMES: dict[str, str] = {
    "inf": "infinity is not allowed as input",
    "infinity": "infinity is not allowed as input",
    "nan": "nan is not allowed as input",
    "oo": "infinity is not allowed as input",
}

# Vector and matrix operations typed from d2l and torch code. The language is per element
# (each variable is one number), so an unknown name here gets what it means for numbers
# rather than the nearest spelling (dot is not cot).
NOT_PER_ELEMENT: dict[str, str] = {
    "dot": "the dot product of two numbers is their product: dot(x, x) is x*x",
    "inner": "the inner product of two numbers is their product: x*y",
    "outer": "the outer product of two numbers is their product: x*y",
    "matmul": "the product of two numbers is x*y",
    "mm": "the product of two numbers is x*y",
    "mv": "the product of two numbers is x*y",
    "bmm": "the product of two numbers is x*y",
    "sum": "the sum of one number is the number itself: sum(x**2) is x**2",
    "mean": "the mean of one number is the number itself",
    "prod": "the product of one number is the number itself",
    "norm": "the norm of a number is abs(x)",
}

# Limits against abuse: the parser refuses anything beyond them.
MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 200
MAX_NODES = 2000
MAX_EXPONENT = 1000.0
# Constant powers a ** b whose magnitude would exceed e^MAX_LOG_MAGNITUDE are refused.
MAX_LOG_MAGNITUDE = 2000.0
MAX_VARIABLES = 16
MAX_ORDER = 6


def canonical_name(name: str, *, tensors: bool = False) -> str | None:
    """The vocabulary name for ``name`` (resolving aliases), or None when unknown; with
    ``tensors`` (variables are tensors) the reductions count too."""
    name = ALIASES.get(name, name)
    if name in FUNCTIONS or (tensors and name in REDUCTIONS):
        return name
    return None


def function_spec(name: str) -> FunctionSpec:
    """The declaration of a canonical function name (elementwise or reduction)."""
    return FUNCTIONS[name] if name in FUNCTIONS else REDUCTIONS[name]


def all_function_names(*, tensors: bool = False) -> tuple[str, ...]:
    """Every accepted function name, aliases included, sorted (with ``tensors``: and the
    reductions)."""
    return tuple(sorted([*FUNCTIONS, *ALIASES, *(REDUCTIONS if tensors else ())]))
