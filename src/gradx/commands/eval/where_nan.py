"""The most-asked autograd NaN: ``where(x > 0, sqrt(x), 0)`` at x = -1.

``torch.where`` passes the gradient to both branches, masked by zeros; the untaken branch
``sqrt(x)`` has a NaN (or infinite) local derivative at x = -1, and 0 × NaN is NaN, so the
gradient is NaN although f is 0 around the point. The fix is a second ``where`` inside the
untaken branch that keeps its argument where the function is tame: ``sqrt(where(x > 0, x, 1))``.
This module finds the branch and words the note; chunk.py appends it to a NaN verdict's note.
"""

from __future__ import annotations

from gradx.commands.eval.special_points import NodeValues, has_bad_local_gradient
from gradx.expression.tree import Call, Node, walk
from gradx.translations import Phrase, phrase

# An argument at which each function, and its derivative, is finite (default 1).
_SAFE_ARGUMENT = {
    "asin": "0.5",
    "acos": "0.5",
    "atanh": "0.5",
    "erfinv": "0.5",
    "logit": "0.5",
    "asech": "0.5",
    "acosh": "2",
    "asec": "2",
    "acsc": "2",
    "acoth": "2",
}


def untaken_branch_note(values: NodeValues, point: int) -> Phrase | None:
    """Why a where() gives a NaN gradient at one point, and the fix; None when no where() does.

    The phrase starts with "; ": it ends the sentence of a NaN verdict's note."""
    parsed = values.parsed
    for node in values.nodes:  # children first: the innermost where() is named
        if not (isinstance(node, Call) and node.function == "where"):
            continue
        cond, when_true, when_false = node.args
        took_first = bool(values.of(cond)[point])
        untaken = when_false if took_first else when_true
        culprit = _culprit(values, untaken, point)
        if culprit is None:
            continue
        branch = parsed.text_of(untaken)
        inside = parsed.text_of(culprit)
        via = "" if inside == branch else phrase(" (through {node})", node=inside)
        fixed = _fixed_branch(values, node, untaken, culprit, took_first)
        if fixed:
            return phrase(
                "; torch.where sends the gradient into both branches, and the untaken branch "
                "{branch} has a non-finite derivative here{through}: 0 × nan is still nan. Keep "
                "that branch finite with a second where: {fixed}",
                branch=branch,
                through=via,
                fixed=fixed,
            )
        return phrase(
            "; torch.where sends the gradient into both branches, and the untaken branch "
            "{branch} has a non-finite derivative here{through}: 0 × nan is still nan",
            branch=branch,
            through=via,
        )
    return None


def _culprit(values: NodeValues, branch: Node, point: int) -> Call | None:
    for node in reversed(list(walk(branch))):
        if isinstance(node, Call) and has_bad_local_gradient(values, node, point):
            return node
    return None


def _fixed_branch(
    values: NodeValues, where: Call, branch: Node, culprit: Call, took_first: bool
) -> str:
    """The untaken branch with the culprit's argument guarded: ``sqrt(where(x > 0, x, 1))``."""
    parsed = values.parsed
    argument = culprit.args[1] if culprit.function == "div" else culprit.args[0]
    start, end = argument.span
    b_start, b_end = branch.span
    if not (b_start <= start < end <= b_end):
        return ""
    safe = _SAFE_ARGUMENT.get(culprit.function, "1")
    condition = parsed.text_of(where.args[0])
    kept = parsed.source[start:end]
    inner = (
        f"where({condition}, {safe}, {kept})"
        if took_first
        else f"where({condition}, {kept}, {safe})"
    )
    return parsed.source[b_start:start] + inner + parsed.source[end:b_end]
