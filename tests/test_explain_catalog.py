"""The catalog data: complete, bilingual, safe patterns, every example recognised as its entry."""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.commands.explain.catalog import load_catalog, parse_catalog, required_literal
from gradx.commands.explain.docs import main as docs_main
from gradx.commands.explain.docs import render_markdown
from gradx.commands.explain.explainer import explain_text
from gradx.commands.explain.matcher import ascii_lower
from gradx.commands.explain.paste import parse_paste

CATALOG = load_catalog()
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    (entry.id, index, text)
    for entry in CATALOG.entries
    for index, text in enumerate(entry.examples)
]
_CJK = re.compile(r"[\u4e00-\u9fff]")

# The minimum set named in issue 4, by the id each got in the catalog.
ISSUE_MINIMUM = {
    "backward-twice",  # backward twice / freed saved tensors
    "non-scalar-backward",  # implicit grad for non-scalar outputs
    "no-grad-fn",  # element 0 of tensors does not require grad
    "int-requires-grad",  # only floating point tensors can require gradients
    "leaf-in-place",
    "view-of-leaf-in-place",
    "modified-in-place",  # version counter
    "multi-output-view-in-place",
    "numpy-requires-grad",
    "non-leaf-grad-access",
    "unused-input",
    "input-does-not-require-grad",
    "grad-output-shape-mismatch",
    "invalid-gradient-shape",
    "invalid-gradient-dtype",
    "wrong-number-of-gradients",
    "derivative-not-implemented",
    "inference-tensor-saved",
    "hook-without-requires-grad",
    "vmap-item",
    "vmap-control-flow",
    "func-grad-non-scalar",
    "anomaly-nan",
    "gradcheck-jacobian-mismatch",
    "detach-view-in-place",
    "requires-grad-non-leaf",
    "create-graph-reference-cycle",  # retain_graph/create_graph reference-cycle warning
    "gradcheck-not-double",  # gradcheck float32 warning
}


def test_the_catalog_is_large_enough_and_covers_the_issue():
    assert len(CATALOG.entries) >= 35
    assert ISSUE_MINIMUM <= set(CATALOG.ids)
    assert len(set(CATALOG.ids)) == len(CATALOG.ids)


def test_multi_cause_entries_list_their_causes():
    no_grad_fn = CATALOG.get("no-grad-fn")
    assert {c.id for c in no_grad_fn.causes} >= {
        "no-requires-grad",
        "no-grad-block",
        "detached",
        "integer-tensor",
        "item-or-numpy",
    }


@pytest.mark.parametrize("entry", CATALOG.entries, ids=lambda e: e.id)
def test_every_entry_is_written_in_english_and_chinese(entry):
    for field in (entry.title, entry.explanation, entry.fix, entry.summary):
        assert field.en and field.zh and field.en != field.zh
        assert _CJK.search(field.zh), field.zh
        assert not _CJK.search(field.en), field.en
    for cause in entry.causes:
        assert _CJK.search(cause.text.zh) and not _CJK.search(cause.text.en)
    assert "\n" not in entry.summary.en and "\n" not in entry.summary.zh
    assert entry.before.strip() and entry.after.strip() and entry.before != entry.after
    assert all(url.startswith("https://pytorch.org/") for url in entry.docs)


def _nested_unbounded_repeat(parsed, inside: bool = False) -> bool:
    for op, av in parsed:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _low, high, sub = av
            unbounded = high == sre_constants.MAXREPEAT
            if unbounded and inside:
                return True
            if _nested_unbounded_repeat(sub, inside or unbounded):
                return True
        elif op is sre_constants.SUBPATTERN:
            if _nested_unbounded_repeat(av[-1], inside):
                return True
        elif op is sre_constants.BRANCH:
            if any(_nested_unbounded_repeat(alt, inside) for alt in av[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if _nested_unbounded_repeat(av[1], inside):
                return True
    return False


@pytest.mark.parametrize(
    "source", [p.source for e in CATALOG.entries for p in e.patterns], ids=lambda s: s[:40]
)
def test_patterns_are_fast_and_fit_the_cleaned_text(source: str):
    # A keyword of 4+ characters lets the matcher skip text cheaply; cleaned text has no
    # backticks; and no unbounded repeat inside another (the catastrophic-backtracking shape).
    assert len(required_literal(source)) >= 4
    assert "`" not in source
    assert not _nested_unbounded_repeat(sre_parse.parse(source))


@pytest.mark.parametrize(
    ("entry_id", "index", "text"), EXAMPLES, ids=[f"{e}-{i}" for e, i, _ in EXAMPLES]
)
def test_every_example_is_recognised_first_as_its_own_entry(entry_id: str, index: int, text: str):
    explanation = explain_text(text, "en")
    assert [f.entry_id for f in explanation.findings][:1] == [entry_id]


@pytest.mark.parametrize(
    ("entry_id", "index", "text"), EXAMPLES, ids=[f"{e}-{i}" for e, i, _ in EXAMPLES]
)
def test_the_keyword_of_every_matching_pattern_is_in_the_example(
    entry_id: str, index: int, text: str
):
    flat = parse_paste(text).flat
    for pattern in CATALOG.get(entry_id).patterns:
        if pattern.regex.search(flat):
            assert pattern.keyword in ascii_lower(flat)


@settings(max_examples=150, deadline=None)
@given(
    example=st.sampled_from(EXAMPLES),
    cuts=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=4),
    prefix=st.sampled_from(["", "> ", "[rank0]: ", "    "]),
)
def test_examples_wrapped_anywhere_are_still_recognised(example, cuts, prefix):
    entry_id, _index, text = example
    chars = list(text)
    for cut in sorted(set(cuts), reverse=True):
        if cut < len(chars):
            chars.insert(cut, "\n")
    wrapped = "\n".join(prefix + line for line in "".join(chars).splitlines())
    assert explain_text(wrapped, "en").findings[0].entry_id == entry_id


def test_a_broken_catalog_is_refused_with_the_entry_named():
    good = (ROOT / "src/gradx/commands/explain/catalog.toml").read_text(encoding="utf-8")
    first = good.index("\n[[entry]]\n")
    duplicated = good + good[first : good.index("\n[[entry]]\n", first + 1)]
    with pytest.raises(ValueError, match="duplicate id 'backward-twice'"):
        parse_catalog(duplicated)
    broken_regex = good.replace(
        "'Trying to backward through the graph a second time',", "'Trying to (backward',", 1
    )
    with pytest.raises(ValueError, match=r"backward-twice.*bad pattern"):
        parse_catalog(broken_regex)
    no_chinese = good.replace(', zh = "第二次对同一计算图做反向传播" }', " }", 1)
    with pytest.raises(ValueError, match=r"backward-twice.*title"):
        parse_catalog(no_chinese)


def test_docs_errors_page_is_in_sync_with_the_catalog():
    page = (ROOT / "docs/errors.md").read_text(encoding="utf-8")
    assert page == render_markdown(CATALOG), (
        "run: python -m gradx.commands.explain.docs docs/errors.md"
    )
    for entry in CATALOG.entries:
        assert f'<a id="{entry.id}"></a>' in page


def test_docs_generator_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    target = tmp_path / "errors.md"
    assert docs_main([str(target), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs_main([str(target)]) == 0
    assert docs_main([str(target), "--check"]) == 0
    assert target.read_text(encoding="utf-8") == render_markdown(CATALOG)
