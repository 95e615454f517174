"""docs/eval.md stays in sync with the vocabulary and the tolerance table."""

from __future__ import annotations

from pathlib import Path

from gradx.expression.vocabulary import ALIASES, FUNCTIONS
from gradx.numerics.tolerances import TOLERANCES

DOC = (Path(__file__).resolve().parents[1] / "docs" / "eval.md").read_text(encoding="utf-8")


def test_every_function_and_alias_is_documented():
    for name in FUNCTIONS:
        assert f"| `{name}` |" in DOC, name
    for alias, target in ALIASES.items():
        assert f"`{alias}` = `{target}`" in DOC


def test_no_undocumented_names_in_the_function_table():
    table = [line for line in DOC.splitlines() if line.startswith("| `")]
    names = {line.split("`")[1] for line in table}
    assert names == set(FUNCTIONS)


def test_tolerance_table_matches_the_code():
    for dtype, row in TOLERANCES.items():
        tol = row.eval
        assert (
            f"| {dtype} | {tol.rtol:g} | {tol.atol:g} | {tol.fd_rtol:g} | {tol.fd_atol:g} | {tol.fd_target:g} |"
            in DOC
        )
