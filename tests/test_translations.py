"""Every sentence gradx writes in English has a Chinese entry with the same placeholders.

The templates are read from the source with ``ast``: the literal first argument of every call
to ``translate``, ``phrase`` and ``N_``.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from gradx.translations import LANGUAGES, Phrase, phrase, resolve_lang, table, translate

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gradx"
MARKERS = {"translate", "phrase", "N_"}


def _templates() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if name in MARKERS and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    found.setdefault(first.value, f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


TEMPLATES = _templates()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_template_is_translated_with_the_same_placeholders(lang: str) -> None:
    entries = table(lang)
    missing = {t: where for t, where in TEMPLATES.items() if t not in entries}
    assert not missing, f"no {lang} entry for: {missing}"
    for template, translated in entries.items():
        assert _fields(translated) == _fields(template), (template, translated)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_each_template_is_translated_in_one_file_only(lang: str) -> None:
    """The files are merged into one table: a key in two files would silently lose one of its
    translations. A template two commands write belongs in common.toml."""
    import tomllib

    seen: dict[str, str] = {}
    clashes = []
    for path in sorted((PACKAGE / "translations" / lang).glob("*.toml")):
        for key in tomllib.loads(path.read_text(encoding="utf-8")):
            if key in seen:
                clashes.append(f"{key!r} in {seen[key]} and {path.name}")
            seen[key] = path.name
    assert not clashes, "move these to common.toml: " + "; ".join(clashes)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_no_translation_is_left_unused(lang: str) -> None:
    unused = set(table(lang)) - set(TEMPLATES)
    assert not unused, f"{lang} entries no code writes: {sorted(unused)}"


def test_a_phrase_is_english_until_given_a_language() -> None:
    known = next(iter(table("zh")))
    fields = dict.fromkeys(_fields(known), "7")
    said = phrase(known, **fields)
    assert isinstance(said, Phrase)
    assert str(said) == known.format(**fields)
    assert said.in_lang("zh") == table("zh")[known].format(**fields)
    assert said.in_lang("zh") != str(said)


def test_an_untranslated_template_stays_english() -> None:
    assert translate("no such sentence {n}", "zh", n=3) == "no such sentence 3"


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        ("zh_CN", {}, "zh"),
        ("EN", {"LANG": "zh_CN.UTF-8"}, "en"),
        (None, {"LANG": "zh_TW.UTF-8"}, "zh"),
        (None, {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_language_from_option_then_locale(option, environ, expected) -> None:
    assert resolve_lang(option, environ) == expected
