"""The verdict rules of ``gradx eval``, declared as a table over named per-point facts.

The chunk measures facts (booleans per point: is f finite, is autograd finite, does the symbolic
value agree…); :data:`RULES` maps them to a status and a :class:`Reason`, first matching rule
wins. The table is the whole policy: nothing else decides a verdict. Its invariants (total, never
kinder than the evidence, a mismatch needs a reliable contradiction) are tested on every
combination of facts in tests/test_verdict_rules.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import torch

from gradx.commands.eval.model import Status

Tensor = torch.Tensor

# Status codes in tensors: the position in ``Status`` (least to most alarming), so the status
# of a point is the maximum over its derivatives.
STATUSES: tuple[Status, ...] = tuple(Status)
CODE: dict[Status, int] = {status: i for i, status in enumerate(STATUSES)}


class Reason(IntEnum):
    """Why a derivative got its status at a point (which note explains it)."""

    NONE = 0  # ok: autograd agrees with both references
    VALUE_DOMAIN = 1  # f is NaN or infinite: part of the expression is outside its domain
    OVERFLOW = 2  # f overflows the dtype: it is not representable there
    KINK = 3  # a kink or a jump; autograd's value is torch's convention
    KINK_NAN = 4  # a kink where autograd gives NaN/inf though a subgradient exists
    DERIV_DOMAIN = 5  # f finite, the derivative infinite or undefined (no reference says otherwise)
    ONE_NONFINITE = 6  # autograd and a reference disagree on whether the derivative is finite
    DIFFER = 7  # everything finite, autograd disagrees with a reliable reference
    NO_NUMERIC = 8  # ok on symbolic alone: finite differences give no value here
    NUMERIC_UNRELIABLE = 9  # ok on symbolic alone: finite differences contradict symbolic
    NO_SYMBOLIC = 10  # ok on numeric alone: no symbolic value here
    NO_REFERENCE = 11  # inconclusive: no reliable reference, none contradicts autograd


# Reasons for which the point has no derivative to estimate: the numeric column shows none.
NO_DERIVATIVE = frozenset(
    {Reason.VALUE_DOMAIN, Reason.OVERFLOW, Reason.KINK, Reason.KINK_NAN, Reason.DERIV_DOMAIN}
)

# The measured facts, per point and derivative (boolean tensors of one shape).
FACTS = (
    "value_finite",  # f is finite
    "value_domain",  # a non-finite f is explained by a domain error or a pole (else: overflow)
    "kinked",  # the kink analysis found a kink or a jump along a variable of the derivative
    "jump",  # ... and it is a jump of f
    "auto_finite",  # autograd's derivative is finite
    "sym_finite",  # the symbolic value is finite
    "sym_missing",  # there is no symbolic value (not computed, or not evaluable)
    "sym_nan",  # sympy's formula gives NaN here (0*inf), unlike +-inf
    "num_usable",  # the finite-difference estimate and its error estimate are finite
    "num_consistent",  # ...and agree with a finite symbolic value (trivially true without one)
    "num_precise",  # ...and the error estimate is small (<= 1e-3 relative)
    "sym_agrees",  # autograd is within tolerance of the symbolic value
    "num_agrees",  # autograd is within the numeric error estimate and tolerance
)

# Facts derived from the measured ones.
DERIVED = {
    # the symbolic value is +-inf: a reliable statement that the derivative is infinite
    "sym_inf": lambda f: ~f["sym_finite"] & ~f["sym_missing"] & ~f["sym_nan"],
    # a numeric estimate counts as evidence (for or against autograd) only if it does not
    # contradict the exact symbolic value (aliasing at |x| ~ 1e308 gives tiny error bars on
    # wrong estimates)
    "num_counts": lambda f: f["num_usable"] & f["num_consistent"],
    # ...and can confirm on its own only if it is also precise
    "num_reliable": lambda f: f["num_usable"] & f["num_consistent"] & f["num_precise"],
}


@dataclass(frozen=True)
class Rule:
    """``when`` holds fact names, ``!name`` for a negated fact; all must hold."""

    when: tuple[str, ...]
    status: Status
    reason: Reason

    def mask(self, facts: Mapping[str, Tensor], like: Tensor) -> Tensor:
        """Where this rule's conditions all hold."""
        out = torch.ones_like(like, dtype=torch.bool)
        for condition in self.when:
            if condition.startswith("!"):
                out = out & ~facts[condition[1:]]
            else:
                out = out & facts[condition]
        return out


S = Status
R = Reason

RULES: tuple[Rule, ...] = (
    # f itself has no value: outside the domain, or not representable (overflow)
    Rule(("!value_finite", "value_domain"), S.DOMAIN, R.VALUE_DOMAIN),
    Rule(("!value_finite",), S.DOMAIN, R.OVERFLOW),
    # kinks and jumps: torch's convention is named; at a jump no value is right, at a kink a
    # subgradient exists, so NaN there is a failure
    Rule(("kinked", "jump"), S.NONDIFFERENTIABLE, R.KINK),
    Rule(("kinked", "auto_finite"), S.NONDIFFERENTIABLE, R.KINK),
    Rule(("kinked",), S.MISMATCH, R.KINK_NAN),
    # autograd NaN/inf at a smooth point: wrong if a reference shows a finite derivative
    Rule(("!auto_finite", "sym_finite"), S.MISMATCH, R.ONE_NONFINITE),
    Rule(("!auto_finite", "!sym_inf", "num_reliable"), S.MISMATCH, R.ONE_NONFINITE),
    Rule(("!auto_finite", "sym_missing"), S.INCONCLUSIVE, R.NO_REFERENCE),
    Rule(("!auto_finite",), S.DOMAIN, R.DERIV_DOMAIN),
    # autograd finite: any reference that counts and disagrees makes a mismatch
    Rule(("sym_finite", "!sym_agrees"), S.MISMATCH, R.DIFFER),
    Rule(("sym_inf",), S.MISMATCH, R.ONE_NONFINITE),
    Rule(("num_counts", "!num_agrees"), S.MISMATCH, R.DIFFER),
    # ...otherwise ok when a reliable reference agrees
    Rule(("sym_finite", "num_counts"), S.OK, R.NONE),
    Rule(("sym_finite", "num_usable"), S.OK, R.NUMERIC_UNRELIABLE),
    Rule(("sym_finite",), S.OK, R.NO_NUMERIC),
    Rule(("num_reliable",), S.OK, R.NO_SYMBOLIC),
    # ...and inconclusive when none is reliable
    Rule((), S.INCONCLUSIVE, R.NO_REFERENCE),
)


def judge(facts: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """Status codes (see :data:`CODE`) and reasons per point: the first rule that matches."""
    missing = set(FACTS) - set(facts)
    if missing:
        raise ValueError(f"missing facts: {', '.join(sorted(missing))}")
    full = dict(facts)
    for name, derive in DERIVED.items():
        full[name] = derive(full)
    like = full["value_finite"]
    status = torch.full(like.shape, -1, dtype=torch.long)
    reason = torch.full(like.shape, -1, dtype=torch.long)
    undecided = torch.ones_like(like, dtype=torch.bool)
    for rule in RULES:
        hit = undecided & rule.mask(full, like)
        status.masked_fill_(hit, CODE[rule.status])
        reason.masked_fill_(hit, int(rule.reason))
        undecided = undecided & ~hit
    return status, reason


__all__ = ["CODE", "FACTS", "NO_DERIVATIVE", "RULES", "Reason", "Rule", "STATUSES", "judge"]
