"""The verdict table (gradx.commands.eval.verdicts.RULES) on every combination of facts.

The rules are data; these tests state the policy they must follow, independently of how the
table is written: total, never kinder than the evidence, a mismatch only with evidence against
autograd, inconclusive exactly when nothing reliable judges autograd.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from gradx.commands.eval.model import Status
from gradx.commands.eval.notes import DerivativeFacts, note
from gradx.commands.eval.verdicts import CODE, FACTS, RULES, STATUSES, Reason, Rule, judge


def _all_combinations() -> dict[str, torch.Tensor]:
    """Every assignment of the facts that can occur together (8192 minus the impossible)."""
    rows = []
    for values in itertools.product((False, True), repeat=len(FACTS)):
        f = dict(zip(FACTS, values, strict=True))
        # the symbolic value is exactly one of: finite, missing, NaN, +-inf
        if f["sym_finite"] + f["sym_missing"] + f["sym_nan"] > 1:
            continue
        if f["jump"] and not f["kinked"]:
            continue
        if f["value_domain"] and f["value_finite"]:
            continue
        if not f["num_usable"] and (f["num_precise"] or f["num_agrees"] or f["num_consistent"]):
            continue  # NaN comparisons are false
        if not f["auto_finite"] and (f["sym_agrees"] or f["num_agrees"]):
            continue
        if not f["sym_finite"] and not f["sym_missing"] and f["sym_agrees"]:
            continue  # only a finite autograd can agree, and then with a finite symbolic
        if f["sym_missing"] and not f["num_consistent"] and f["num_usable"]:
            continue  # consistency is checked only against a symbolic value
        rows.append(values)
    table = torch.tensor(rows, dtype=torch.bool)
    return {name: table[:, i] for i, name in enumerate(FACTS)}


FACTS_TABLE = _all_combinations()
STATUS_CODE, REASON = judge(FACTS_TABLE)
F = FACTS_TABLE


def _status(status: Status) -> torch.Tensor:
    return STATUS_CODE == CODE[status]


def test_every_combination_gets_exactly_one_verdict():
    assert FACTS_TABLE["value_finite"].numel() > 500  # 576 possible combinations
    assert bool((STATUS_CODE >= 0).all()) and bool((REASON >= 0).all())


def test_every_rule_and_reason_is_reachable():
    reached = {Reason(r) for r in REASON.unique().tolist()}
    assert reached == set(Reason)
    assert {STATUSES[s] for s in STATUS_CODE.unique().tolist()} == set(Status)


def test_rules_name_only_known_facts():
    known = set(FACTS) | {"sym_inf", "num_counts", "num_reliable"}
    for rule in RULES:
        for condition in rule.when:
            assert condition.removeprefix("!") in known, rule


def test_missing_facts_are_refused():
    with pytest.raises(ValueError, match="missing facts"):
        judge({"value_finite": torch.ones(1, dtype=torch.bool)})


# what counts as evidence, stated here independently of the table
sym_inf = ~F["sym_finite"] & ~F["sym_missing"] & ~F["sym_nan"]
num_counts = F["num_usable"] & F["num_consistent"]
num_reliable = num_counts & F["num_precise"]
smooth_point = F["value_finite"] & ~F["kinked"]
contradicted = smooth_point & (
    (F["auto_finite"] & F["sym_finite"] & ~F["sym_agrees"])
    | (F["auto_finite"] & sym_inf)
    | (F["auto_finite"] & num_counts & ~F["num_agrees"])
    | (~F["auto_finite"] & (F["sym_finite"] | (~sym_inf & num_reliable)))
)
confirmed = smooth_point & (
    (F["auto_finite"] & F["sym_finite"] & F["sym_agrees"])
    | (F["auto_finite"] & num_reliable & F["num_agrees"])
)


def test_ok_only_when_a_reliable_reference_agrees_and_none_disagrees():
    ok = _status(Status.OK)
    assert bool((ok <= confirmed).all())
    assert not bool((ok & contradicted).any())


def test_a_smooth_point_is_a_mismatch_exactly_when_a_reliable_reference_contradicts_autograd():
    mismatch = _status(Status.MISMATCH)
    assert bool(((mismatch & smooth_point) == contradicted).all())


def test_inconclusive_exactly_when_nothing_reliable_judges_autograd():
    inconclusive = _status(Status.INCONCLUSIVE)
    assert not bool((inconclusive & (contradicted | confirmed)).any())
    assert bool((inconclusive <= smooth_point).all())
    assert bool((inconclusive <= (F["sym_missing"] | F["sym_nan"])).all())
    # a finite autograd with nothing to say about it is never ok, never a mismatch
    undecided = smooth_point & F["auto_finite"] & ~contradicted & ~confirmed
    assert bool((inconclusive[undecided]).all())


def test_a_value_that_is_not_finite_is_domain_whether_undefined_or_overflowing():
    bad = ~F["value_finite"]
    assert bool(_status(Status.DOMAIN)[bad].all())
    assert bool((REASON[bad & F["value_domain"]] == Reason.VALUE_DOMAIN).all())
    assert bool((REASON[bad & ~F["value_domain"]] == Reason.OVERFLOW).all())


def test_kinks_name_the_convention_and_nan_at_a_kink_is_a_mismatch():
    kink = F["value_finite"] & F["kinked"]
    nan_at_kink = kink & ~F["jump"] & ~F["auto_finite"]
    assert bool(_status(Status.MISMATCH)[nan_at_kink].all())
    assert bool(_status(Status.NONDIFFERENTIABLE)[kink & ~nan_at_kink].all())


def test_a_numeric_estimate_that_contradicts_symbolic_does_not_make_a_mismatch():
    # sin(x) at |x| ~ 1e10..1e308: autograd = symbolic, finite differences alias
    case = (
        smooth_point
        & F["auto_finite"]
        & F["sym_finite"]
        & F["sym_agrees"]
        & F["num_usable"]
        & ~F["num_consistent"]
    )
    assert bool(case.any())
    assert bool(_status(Status.OK)[case].all())
    assert bool((REASON[case] == Reason.NUMERIC_UNRELIABLE).all())


def test_first_matching_rule_wins():
    one = {name: torch.tensor([False]) for name in FACTS}
    one.update(
        value_finite=torch.tensor([True]),
        auto_finite=torch.tensor([True]),
        sym_finite=torch.tensor([True]),
        sym_agrees=torch.tensor([True]),
        num_usable=torch.tensor([True]),
        num_consistent=torch.tensor([True]),
        num_precise=torch.tensor([True]),
        num_agrees=torch.tensor([True]),
    )
    status, reason = judge(one)
    assert STATUSES[int(status)] is Status.OK and Reason(int(reason)) is Reason.NONE
    assert RULES[-1] == Rule((), Status.INCONCLUSIVE, Reason.NO_REFERENCE)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_note_and_only_a_plain_ok_is_silent(reason):
    facts = DerivativeFacts(
        reason=reason,
        autograd=1.0,
        symbolic=None,
        numeric=2.0,
        numeric_error=0.5,
        sym_ok=False,
        num_ok=False,
        value=1.0,
    )
    said = note(facts)
    assert (said is None) == (reason is Reason.NONE), (reason, said)
    if said is not None:  # a sentence in every language, not an empty one
        assert str(said) and said.in_lang("zh") and said.in_lang("zh") != str(said)
