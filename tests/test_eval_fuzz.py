"""Random expressions from the whole vocabulary, at awkward points: the pipeline always returns a
verdict for every point (never an internal error), and the verdict is consistent."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradx.commands.eval.model import Status
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression
from gradx.errors import GradxError
from gradx.expression.parser import parse_expression
from gradx.expression.vocabulary import FUNCTIONS

LEAVES = st.sampled_from(["x", "x", "x", "y", "y", "2", "0.5", "pi", "e", "1e-3"])


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


def expressions(depth: int = 3):
    def extend(children):
        unary = st.tuples(
            st.sampled_from(sorted(FUNCTIONS)), st.lists(children, min_size=3, max_size=3)
        ).map(lambda t: _call(t[0], t[1][: max(FUNCTIONS[t[0]].min_args, 1)]))
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        return unary | binary

    return st.recursive(LEAVES, extend, max_leaves=8)


# A point shows the most alarming status of its derivatives (docs/eval.md, "Verdicts").
ALARM = [Status.OK, Status.NONDIFFERENTIABLE, Status.DOMAIN, Status.INCONCLUSIVE, Status.MISMATCH]

POINTS = st.sampled_from([0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 1e-8, 100.0, -0.3])


@pytest.mark.slow
@settings(
    max_examples=int(__import__("os").environ.get("GRADX_FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    expressions(), POINTS, POINTS, st.sampled_from([1, 2]), st.sampled_from(["float64", "float32"])
)
def test_every_point_gets_a_consistent_verdict(expression, x, y, order, dtype):
    try:
        variables = parse_expression(expression).variables
    except GradxError as error:
        assert "too large" in error.message, error.message  # e.g. a huge constant power
        return
    if not variables:
        return
    at = ",".join(f"{v}={x if v == 'x' else y}" for v in variables)
    report = evaluate_expression(EvalRequest(expression, at=(at,), order=order, dtype=dtype))
    (row,) = report.rows
    assert row.derivatives
    assert row.status is max((d.status for d in row.derivatives), key=ALARM.index)
    counts = report.summary
    assert getattr(counts, row.status.value) == 1
    assert (
        counts.ok + counts.nondifferentiable + counts.domain + counts.inconclusive + counts.mismatch
        == 1
    )
    for d in row.derivatives:
        if d.status is Status.OK:
            assert math.isfinite(d.autograd)
            assert d.error is not None and math.isfinite(d.error)
        if d.status is not Status.OK:
            assert d.note, (expression, d)
