"""The intermediate form of a parsed expression: a small immutable tree.

The parser builds it; ``to_torch`` turns it into a torch function and ``to_sympy``
into a sympy expression, so both come from one parse. Operators are calls of the names in
``OPERATORS``; every other call names a function of ``vocabulary.FUNCTIONS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

# Comparisons and logic give booleans; ``where(cond, a, b)`` picks a or b by a boolean.
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
LOGIC = ("and", "or", "not")
BOOLEAN_OPERATORS = (*COMPARISONS, *LOGIC)
OPERATORS = ("add", "sub", "mul", "div", "pow", "neg", "where", *BOOLEAN_OPERATORS)

OPERATOR_SYMBOLS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "pow": "**",
    "neg": "-",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "and": "and",
    "or": "or",
    "not": "not ",
}


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal; ``exact`` is its decimal value as a fraction (for sympy)."""

    value: float
    exact: Fraction
    span: tuple[int, int] = field(default=(0, 0), compare=False)


@dataclass(frozen=True, slots=True)
class Constant:
    """A named constant: ``pi`` or ``e``."""

    name: str
    span: tuple[int, int] = field(default=(0, 0), compare=False)


@dataclass(frozen=True, slots=True)
class Variable:
    """A free variable such as ``x``."""

    name: str
    span: tuple[int, int] = field(default=(0, 0), compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    """An operator (``add``, ``pow``…) or a vocabulary function applied to arguments."""

    function: str
    args: tuple[Node, ...]
    span: tuple[int, int] = field(default=(0, 0), compare=False)


Node = Number | Constant | Variable | Call


@dataclass(frozen=True)
class ParsedExpression:
    """A validated expression: its source text, its tree and its variables (sorted)."""

    source: str
    root: Node
    variables: tuple[str, ...]

    def text_of(self, node: Node) -> str:
        """The part of the source a node came from."""
        start, end = node.span
        return self.source[start:end]

    def uses(self, *functions: str) -> bool:
        """Whether any of the given function names appears in the tree."""
        wanted = set(functions)
        return any(isinstance(n, Call) and n.function in wanted for n in walk(self.root))


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Call):
            stack.extend(reversed(current.args))


def is_boolean(node: Node) -> bool:
    """Whether a node is a comparison or a logical combination of them (true or false)."""
    return isinstance(node, Call) and node.function in BOOLEAN_OPERATORS


def is_constant(node: Node) -> bool:
    """Whether a tree has no variables."""
    return not any(isinstance(n, Variable) for n in walk(node))
