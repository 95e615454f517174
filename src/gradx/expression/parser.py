"""Safe parsing of expression text into the intermediate form of ``expression.py``.

The text is parsed by Python's ``ast`` module and the tree is walked with an allow-list of node
types, names and functions; nothing is ever evaluated with ``eval``, ``exec``, ``sympify`` or
``parse_expr``. Errors carry the expression with a ``^^^`` caret under the offending part.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import warnings
from fractions import Fraction

from gradx.errors import GradxError, caret_lines
from gradx.expression.constants import constant_value
from gradx.expression.tree import (
    Call,
    Constant,
    Node,
    Number,
    ParsedExpression,
    Variable,
    is_boolean,
    is_constant,
)
from gradx.expression.vocabulary import (
    CONSTANTS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_EXPRESSION_LENGTH,
    MAX_LOG_MAGNITUDE,
    MAX_NODES,
    MAX_VARIABLES,
    NOT_PER_ELEMENT,
    REDUCTIONS,
    REFUSED_NAMES,
    FunctionSpec,
    all_function_names,
    canonical_name,
    function_spec,
)

_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")

_ALLOWED = (
    "numbers, variables, + - * / ** ^, parentheses, the functions listed by `gradx eval --help` "
    "and where(condition, a, b) with comparisons"
)

_COMPARE = {
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.Eq: "eq",
    ast.NotEq: "ne",
}
_COMPARE_REFUSED = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_NOT_A_NUMBER = (
    "a comparison is true or false, not a number: use it as the condition of where(condition, a, b)"
)

# Module prefixes of code pasted from a notebook; accepted only in front of a function (or
# constant) gradx knows, which then means what it means without the prefix.
PREFIXES = (
    "torch",
    "torch.nn.functional",
    "nn.functional",
    "F",
    "torch.special",
    "math",
    "np",
    "numpy",
)
_ATTRIBUTE_REFUSED = (
    "attribute access not allowed; only a module prefix (torch., F., torch.nn.functional., "
    "math., np., ...) in front of a function gradx knows, as in torch.sin(x)"
)

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}

_REFUSED_OPERATORS = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}

_NODE_WORDS = {
    "Attribute": "attribute access",
    "Subscript": "indexing",
    "Compare": "comparisons",
    "BoolOp": "'and'/'or'",
    "IfExp": "'if ... else'",
    "Lambda": "lambda",
    "ListComp": "comprehensions",
    "SetComp": "comprehensions",
    "DictComp": "comprehensions",
    "GeneratorExp": "comprehensions",
    "List": "lists",
    "Tuple": "tuples",
    "Set": "sets",
    "Dict": "dicts",
    "NamedExpr": "assignment (:=)",
    "Starred": "starred arguments",
    "JoinedStr": "strings",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}


class ExpressionError(GradxError):
    """An expression that cannot be used, with the span of the offending part."""

    def __init__(self, message: str, source: str, start: int, end: int) -> None:
        super().__init__(message, detail=caret_lines(source, start, end))
        self.source = source
        self.start = start
        self.end = end


def parse_expression(
    text: str, *, extra_variables: tuple[str, ...] = (), tensors: bool = False
) -> ParsedExpression:
    """Parse and validate expression text; raise ``ExpressionError`` for anything not allowed.

    ``extra_variables`` are names the caller wants as variables even when the expression does
    not use them (for instance ``--at y=2`` on a constant expression). ``tensors``: the
    caller's variables are tensors (``gradx graph``), so the reductions of
    ``vocabulary.REDUCTIONS`` (``sum``, ``mean``, ``dot``, ``norm``) are allowed too.
    """
    if not isinstance(text, str):
        raise GradxError("the expression must be text")
    source = text
    if not source.strip():
        raise GradxError("the expression is empty: give one such as 'sin(x)'")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise GradxError(
            f"the expression is {len(source)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    for index, char in enumerate(source):
        if char in "\n\r" or (not char.isprintable() and char != "\t"):
            raise ExpressionError(
                f"unexpected control character {char!r} in the expression", source, index, index + 1
            )
    python_text, origin = _caret_to_power(source)
    lead = len(python_text) - len(python_text.lstrip())
    tree = _python_parse(source, python_text, origin)
    builder = _Builder(source, origin[lead:], tensors=tensors)
    root = builder.numeric(builder.build(tree.body, depth=0), tree.body)
    names = {*builder.variables, *extra_variables}
    if len(names) > MAX_VARIABLES:
        raise GradxError(f"too many variables ({len(names)}); the limit is {MAX_VARIABLES}")
    return ParsedExpression(source=source, root=root, variables=tuple(sorted(names)))


_SUPERSCRIPTS = {**{c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "⁻": "-"}
# The forms gradx itself prints (x²·exp(-x²/10), √(x), π), read back as input.
_PRINTED_FORMS = {"^": "**", "·": "*", "π": "pi", "√": "sqrt"}


def _caret_to_power(source: str) -> tuple[str, list[int]]:
    """Rewrite ``^`` as ``**``, superscripts as powers (``x²`` is ``x**2``, ``x⁻¹`` is
    ``x**(-1)``) and ``·``, ``π``, ``√`` as ``*``, ``pi``, ``sqrt``; map each position of the new
    text to one of the source. Absolute-value bars are refused with the spelling to use."""
    out: list[str] = []
    origin: list[int] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "|":
            raise ExpressionError(
                "absolute-value bars |x| are not supported: write abs(x)", source, index, index + 1
            )
        if char in _SUPERSCRIPTS:
            end = index
            while end < len(source) and source[end] in _SUPERSCRIPTS:
                end += 1
            digits = "".join(_SUPERSCRIPTS[c] for c in source[index:end])
            power = f"**({digits})" if "-" in digits else f"**{digits}"
            out.append(power)
            origin.extend([index] * (len(power) - len(digits)))
            origin.extend(range(index, end))
            index = end
            continue
        replacement = _PRINTED_FORMS.get(char, char)
        out.append(replacement)
        origin.extend([index] * len(replacement))
        index += 1
    origin.append(len(source))
    return "".join(out), origin


def _python_parse(source: str, python_text: str, origin: list[int]) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for '1is 2'
            return ast.parse(python_text.strip(), mode="eval")
    except SyntaxError as error:
        lead = len(python_text) - len(python_text.lstrip())
        offset = (error.offset or 1) - 1 + lead
        end_offset = (error.end_offset or 0) - 1 + lead
        start = origin[min(max(offset, 0), len(origin) - 1)]
        end = origin[min(max(end_offset, offset + 1), len(origin) - 1)]
        message = _syntax_message(error.msg or "invalid syntax", source, start)
        raise ExpressionError(message, source, start, max(end, start + 1)) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        raise GradxError(f"the expression cannot be parsed: {error}") from None


def _syntax_message(msg: str, source: str, start: int) -> str:
    msg = msg.rstrip(".")
    before = source[:start]
    if msg.startswith("invalid decimal literal") or (
        re.search(r"\d\s*$", before) and re.match(r"\s*[A-Za-z(]", source[start:])
    ):
        return "syntax error: a number is followed by a name; write 2*x, not 2x"
    if "never closed" in msg or "unexpected EOF" in msg:
        return f"syntax error: {msg}; check the parentheses"
    if "too many nested" in msg or "too complex" in msg:
        return f"the expression is nested too deeply ({msg})"
    return f"syntax error: {msg}"


class _Builder:
    """Walks a Python AST with an allow-list and builds the intermediate tree."""

    def __init__(self, source: str, origin: list[int], *, tensors: bool = False) -> None:
        self.source = source
        self.origin = origin
        self.tensors = tensors
        self.variables: set[str] = set()
        self.count = 0

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = getattr(node, "col_offset", 0) or 0
        end = getattr(node, "end_col_offset", None) or start + 1
        last = len(self.origin) - 1
        return self.origin[min(start, last)], self.origin[min(end, last)]

    def fail(self, message: str, node: ast.AST) -> ExpressionError:
        start, end = self.span(node)
        return ExpressionError(message, self.source, start, max(end, start + 1))

    def build(self, node: ast.AST, depth: int) -> Node:
        self.count += 1
        if depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested more than {MAX_DEPTH} levels deep", node)
        if self.count > MAX_NODES:
            raise self.fail(f"the expression has more than {MAX_NODES} parts", node)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.BoolOp):
            return self.boolean_operation(node, depth)
        if isinstance(node, ast.IfExp):  # a if c else b: where(c, a, b)
            args = (
                self.boolean(self.build(node.test, depth + 1), node.test),
                self.numeric(self.build(node.body, depth + 1), node.body),
                self.numeric(self.build(node.orelse, depth + 1), node.orelse),
            )
            return Call("where", args, self.span(node))
        what = _NODE_WORDS.get(type(node).__name__, f"'{type(node).__name__}'")
        raise self.fail(f"{what} not allowed; an expression may contain {_ALLOWED}", node)

    def number(self, node: ast.Constant) -> Node:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, complex):
                what = "complex numbers are"
            elif isinstance(value, str | bytes):
                what = "strings are"
            else:
                what = f"{value!r} is"
            raise self.fail(f"{what} not allowed; an expression may contain {_ALLOWED}", node)
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float):
            raise self.fail("number too large: it overflows to infinity", node)
        exact = Fraction(value) if isinstance(value, int) else Fraction(repr(value))
        return Number(as_float, exact, self.span(node))

    def name(self, node: ast.Name) -> Node:
        name = node.id
        span = self.span(node)
        if name.startswith("_"):
            raise self.fail(f"name {name!r} not allowed: names may not start with '_'", node)
        if name.lower() in REFUSED_NAMES:
            raise self.fail(f"{name!r}: {REFUSED_NAMES[name.lower()]}", node)
        if name in CONSTANTS:
            return Constant(name, span)
        if canonical_name(name, tensors=self.tensors) is not None:
            raise self.fail(f"{name!r} is a function: call it, as in {name}(x)", node)
        if name == "where":
            raise self.fail("'where' is a function: call it, as in where(x > 0, x, 0)", node)
        if not _VARIABLE_NAME.match(name):
            raise self.fail(
                f"variable name {name!r} not allowed: use ASCII letters, digits and '_' "
                "(up to 32 characters, starting with a letter)",
                node,
            )
        self.variables.add(name)
        return Variable(name, span)

    def prefixed(self, node: ast.Attribute) -> str:
        """``torch.sin``, ``F.relu``, ``math.sqrt``… as pasted from a notebook: the dotted name,
        when its prefix is one of ``PREFIXES`` (whether the name is known is checked after)."""
        parts = [node.attr]
        value: ast.expr = node.value
        while isinstance(value, ast.Attribute):
            parts.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name):
            prefix = ".".join([value.id, *reversed(parts[1:])])
            if prefix in PREFIXES:
                return f"{prefix}.{node.attr}"
        raise self.fail(_ATTRIBUTE_REFUSED, node)

    def attribute(self, node: ast.Attribute) -> Node:
        """``math.pi``, ``np.e``, ``torch.pi``: the constants, with a module prefix."""
        raw = self.prefixed(node)
        if node.attr in CONSTANTS:
            return Constant(node.attr, self.span(node))
        if canonical_name(node.attr, tensors=self.tensors) is not None:
            raise self.fail(f"{raw!r} is a function: call it, as in {raw}(x)", node)
        raise self.fail(f"{raw!r} is not a constant gradx knows (pi, e)", node)

    def numeric(self, built: Node, node: ast.AST) -> Node:
        """``built``, refused where a number is needed but it is a comparison."""
        if is_boolean(built):
            raise self.fail(_NOT_A_NUMBER, node)
        return built

    def boolean(self, built: Node, node: ast.AST) -> Node:
        """``built``, refused where a condition is needed but it is a number."""
        if not is_boolean(built):
            raise self.fail(
                "a condition is needed here: a comparison such as x > 0 (with and, or, not)",
                node,
            )
        return built

    def compare(self, node: ast.Compare, depth: int) -> Node:
        """``a < b``, and chains ``0 < x < 1`` as ``0 < x and x < 1``."""
        operands = [
            self.numeric(self.build(n, depth + 1), n) for n in (node.left, *node.comparators)
        ]
        parts: list[Node] = []
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            name = _COMPARE.get(type(op))
            if name is None:
                word = _COMPARE_REFUSED.get(type(op), type(op).__name__)
                raise self.fail(
                    f"operator {word!r} not allowed; compare with < <= > >= == !=", node
                )
            parts.append(Call(name, (left, right), self.span(node)))
        result = parts[0]
        for part in parts[1:]:
            result = Call("and", (result, part), self.span(node))
        return result

    def boolean_operation(self, node: ast.BoolOp, depth: int) -> Node:
        name = "and" if isinstance(node.op, ast.And) else "or"
        values = [self.boolean(self.build(v, depth + 1), v) for v in node.values]
        result = values[0]
        for value in values[1:]:
            result = Call(name, (result, value), self.span(node))
        return result

    def unary(self, node: ast.UnaryOp, depth: int) -> Node:
        operand = self.build(node.operand, depth + 1)
        if isinstance(node.op, ast.Not):
            return Call("not", (self.boolean(operand, node.operand),), self.span(node))
        operand = self.numeric(operand, node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.USub):
            return Call("neg", (operand,), self.span(node))
        raise self.fail(f"operator '~' not allowed; an expression may contain {_ALLOWED}", node)

    def binary(self, node: ast.BinOp, depth: int) -> Node:
        op = _BINARY.get(type(node.op))
        if op is None:
            symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self.fail(
                f"operator {symbol} not allowed; an expression may contain {_ALLOWED}", node
            )
        left = self.numeric(self.build(node.left, depth + 1), node.left)
        right = self.numeric(self.build(node.right, depth + 1), node.right)
        if op == "pow":
            self.check_power(left, right, node)
        return Call(op, (left, right), self.span(node))

    def call(self, node: ast.Call, depth: int) -> Node:
        if isinstance(node.func, ast.Attribute):
            raw = self.prefixed(node.func)
            bare = node.func.attr
        elif isinstance(node.func, ast.Name):
            raw = bare = node.func.id
        else:
            raise self.fail("only named functions such as sin(x) can be called", node.func)
        if bare == "where":
            return self.where(raw, node, depth)
        name = canonical_name(bare, tensors=self.tensors)
        if name is None:
            raise self.fail(_unknown_function_message(bare, raw, self.tensors), node.func)
        spec = function_spec(name)
        if not spec.min_args <= len(node.args) <= spec.max_args:
            raise self.fail(f"{raw}() takes {spec.arity_text()}, got {len(node.args)}", node)
        sources: list[ast.expr | None] = list(node.args)
        if node.keywords:
            sources = self.keyword_parameters(raw, spec, sources, node.keywords)
        built = tuple(
            None if a is None else self.numeric(self.build(a, depth + 1), a) for a in sources
        )
        if spec.parameters:
            args = self.parameters(raw, spec, built, sources, node)
        else:  # without parameters there are no keywords, so no empty slots
            args = tuple(a for a in built if a is not None)
        if name == "pow":
            self.check_power(args[0], args[1], node)
        if name == "dot":
            for arg, source in zip(args, node.args, strict=True):
                if is_constant(arg):
                    raise self.fail(
                        f"{raw}(a, b) takes two vectors (1-D tensors); "
                        f"{self.source[slice(*arg.span)] or 'a constant'} is a number",
                        source,
                    )
        return Call(name, args, self.span(node))

    def keyword_parameters(
        self,
        raw: str,
        spec: FunctionSpec,
        sources: list[ast.expr | None],
        keywords: list[ast.keyword],
    ) -> list[ast.expr | None]:
        """Place ``F.leaky_relu(x, negative_slope=0.2)``'s keywords in their parameter slots
        (gradx's names or torch's); slots left empty (None) take their defaults."""
        slots = sources + [None] * (spec.max_args - len(sources))
        for keyword in keywords:
            if keyword.arg == "inplace" and isinstance(keyword.value, ast.Constant):
                if isinstance(keyword.value.value, bool):
                    continue  # pasted F.relu(x, inplace=True): no effect on the values here
            index = next(
                (
                    spec.min_args + i
                    for i, p in enumerate(spec.parameters)
                    if keyword.arg in (p.name, p.keyword)
                ),
                None,
            )
            if index is None:
                known = ", ".join(f"{p.keyword or p.name}=" for p in spec.parameters)
                allowed = f" (it takes {known})" if known else ""
                shown = f"{keyword.arg}=" if keyword.arg else "**"
                raise self.fail(f"{raw}() has no keyword argument {shown}{allowed}", keyword)
            if slots[index] is not None:
                raise self.fail(f"{raw}() got {keyword.arg} twice", keyword)
            slots[index] = keyword.value
        while slots and slots[-1] is None:
            slots.pop()
        return slots

    def where(self, raw: str, node: ast.Call, depth: int) -> Node:
        """``where(condition, a, b)``: a where the condition holds, b elsewhere."""
        if node.keywords:
            raise self.fail(f"keyword arguments are not allowed in {raw}(...)", node.keywords[0])
        if len(node.args) != 3:
            raise self.fail(
                f"{raw}() takes 3 arguments (condition, a, b), got {len(node.args)}", node
            )
        cond, a, b = node.args
        args = (
            self.boolean(self.build(cond, depth + 1), cond),
            self.numeric(self.build(a, depth + 1), a),
            self.numeric(self.build(b, depth + 1), b),
        )
        return Call("where", args, self.span(node))

    def parameters(
        self,
        raw: str,
        spec: FunctionSpec,
        args: tuple[Node | None, ...],
        sources: list[ast.expr | None],
        node: ast.Call,
    ) -> tuple[Node, ...]:
        """Check the optional constant parameters and fill in torch's defaults (for the slots
        not given, and the empty ones keywords left)."""
        span = self.span(node)
        usage = f"{raw}(x, {', '.join(f'{p.default:g}' for p in spec.parameters)})"
        filled: list[Node] = [a for a in args[: spec.min_args] if a is not None]
        values = []
        for i, parameter in enumerate(spec.parameters):
            index = spec.min_args + i
            arg = args[index] if index < len(args) else None
            if arg is None:
                value = parameter.default
                filled.append(Number(value, Fraction(repr(value)), (span[1], span[1])))
                values.append(value)
                continue
            source = sources[index]
            assert source is not None
            if not is_constant(arg):
                raise self.fail(
                    f"the {parameter.name} of {raw} must be a constant number, as in {usage}",
                    source,
                )
            value = constant_value(arg)
            if not math.isfinite(value):
                raise self.fail(f"the {parameter.name} of {raw} is not a finite number", source)
            if parameter.at_least is not None and value < parameter.at_least:
                raise self.fail(
                    f"the {parameter.name} of {raw} must be at least {parameter.at_least:g}", source
                )
            if parameter.nonzero and value == 0:
                raise self.fail(f"the {parameter.name} of {raw} must not be 0", source)
            filled.append(arg)
            values.append(value)
        if spec.ordered_parameters and values[0] > values[1]:
            lo, hi = (p.name for p in spec.parameters)
            raise self.fail(f"{raw}(x, {lo}, {hi}) needs {lo} <= {hi}", node)
        return tuple(filled)

    def check_power(self, base: Node, exponent: Node, node: ast.AST) -> None:
        """Refuse literal exponents and constant powers too large to compute."""
        if not is_constant(exponent):
            return
        value = constant_value(exponent)
        if not math.isfinite(value) or abs(value) > MAX_EXPONENT:
            shown = "too large to compute" if not math.isfinite(value) else f"{value:g}"
            raise self.fail(
                f"exponent {shown} is too large; the limit is {MAX_EXPONENT:g} in absolute value",
                node,
            )
        if is_constant(base):
            magnitude = abs(constant_value(base))
            if magnitude > 0 and math.isfinite(magnitude):
                if abs(value * math.log(magnitude)) > MAX_LOG_MAGNITUDE:
                    raise self.fail("constant power too large to compute", node)


def _unknown_function_message(name: str, raw: str | None = None, tensors: bool = False) -> str:
    raw = raw or name
    if name.startswith("_"):
        return f"name {raw!r} not allowed: names may not start with '_'"
    if tensors and name.lower() in NOT_PER_ELEMENT:
        return (
            f"unknown function {raw!r}: the tensor functions of an expression are "
            f"{', '.join(REDUCTIONS)}; for other tensor operations write a function in a file "
            "and run gradx graph FILE.py::NAME"
        )
    if name.lower() in NOT_PER_ELEMENT:
        graph = f" (gradx graph, whose variables are tensors, has {name.lower()})"
        return (
            f"unknown function {name!r}: expressions work on numbers, one per variable; "
            f"{NOT_PER_ELEMENT[name.lower()]}" + (graph if name.lower() in REDUCTIONS else "")
        )
    names = all_function_names(tensors=tensors)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close and name.lower() in names:
        close = [name.lower()]
    if close:
        return f"unknown function {raw!r} — did you mean {close[0]!r}?"
    return f"unknown function {raw!r}; the functions are: {', '.join(names)}"


def parse_constant(text: str, what: str) -> float:
    """The finite value of a constant expression such as ``-2*pi`` (GradxError otherwise)."""
    stripped = text.strip()
    if not stripped:
        raise GradxError(f"{what} is empty")
    parsed = parse_expression(stripped)
    if parsed.variables:
        raise GradxError(
            f"{what} {stripped!r} must be a number or a constant expression such as pi/4, "
            f"not contain variables ({', '.join(parsed.variables)})"
        )
    value = constant_value(parsed.root)
    if not math.isfinite(value):
        raise GradxError(f"{what} {stripped!r} is not a finite number")
    return value
