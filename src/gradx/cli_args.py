"""Leading minus: ``gradx eval "-x^2 + 3*x" --at 2`` takes ``-x^2 + 3*x`` as the expression.

A command line parser reads any argument that starts with ``-`` as an option. For ``eval`` and
``graph`` an argument that starts with ``-``, is not one of the command's options (nor the value
of one: ``--at x=-1``, ``--range -3:3`` stay as they are) and parses as an expression is moved
behind a ``--`` at the end, wherever it stood. ``--`` itself marks the next argument as the
expression and option parsing goes on after it (``gradx eval -- "-x^2" --at 2``), since these
commands take exactly one positional argument. ``-h`` and ``--anything`` are left alone: they
read as options (a misspelt one gets click's "No such option").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

# Commands whose one positional argument is (or may be) an expression.
EXPRESSION_COMMANDS = ("eval", "graph")
_NOT_AN_EXPRESSION = frozenset({"-h"})


def expression_last(
    args: Sequence[str], flags: Collection[str], valued: Collection[str]
) -> list[str]:
    """``args`` (of one command) with a leading-minus expression moved behind ``--`` at the end.

    ``flags`` are the command's options without a value, ``valued`` those that take one.
    Unchanged when no argument needs moving.
    """
    kept: list[str] = []
    moved: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            if i + 1 < len(args):
                moved.append(args[i + 1])
            i += 2
            continue
        if name in valued and "=" not in arg:
            kept.extend(args[i : i + 2])
            i += 2
            continue
        if name in flags or name in valued or not _is_leading_minus_expression(arg):
            kept.append(arg)
        else:
            moved.append(arg)
        i += 1
    if not moved:
        return list(args)
    return [*kept, "--", *moved]


def _is_leading_minus_expression(arg: str) -> bool:
    if not arg.startswith("-") or arg.startswith("--") or arg in _NOT_AN_EXPRESSION:
        return False
    from gradx.errors import GradxError
    from gradx.expression.parser import parse_expression

    try:  # with graph's reductions, so that eval can say why it refuses "-sum(x)"
        parse_expression(arg, tensors=True)
    except GradxError:
        return False
    return True
