"""The words of gradx's reports in each language.

English is written in the code that makes a report, as ``str.format`` templates; every other
language is data: ``zh/*.toml`` maps each English template to its translation (one file per
command, plus ``common.toml``). The core hands renderers ``Phrase`` values (a template and its
parameters), so a report stays language-neutral until it is written; renderers call
``translate`` for their own headings. A template without a translation is printed in English.
``tests/test_translations.py`` checks that every template written in the code has a Chinese
entry with the same placeholders, and that no entry is unused.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from gradx.errors import ExitCode, GradxError

LANGUAGES = ("en", "zh")


def resolve_lang(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``"en"`` or ``"zh"``: the option if given (``zh_CN``, ``zh-Hans`` count as zh), else the
    first of LC_ALL, LC_MESSAGES, LANG that is set (as POSIX orders them), else English."""
    if option is not None:
        value = option.strip().lower()
        for lang in LANGUAGES:
            if value == lang or value.startswith((lang + "_", lang + "-", lang + ".")):
                return lang
        raise GradxError(f"unknown language {option!r}: choose en or zh", exit_code=ExitCode.USAGE)
    environ = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@cache
def table(lang: str) -> Mapping[str, str]:
    """Every translation of ``lang``: English template → template in ``lang`` (empty for en)."""
    if lang == "en":
        return {}
    merged: dict[str, str] = {}
    folder = resources.files(__package__).joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            merged.update(tomllib.loads(entry.read_text(encoding="utf-8")))
    return merged


def translate(template: str, lang: str, /, **params: object) -> str:
    """``template`` in ``lang`` (English when there is no translation), formatted with
    ``params``."""
    text = table(lang).get(template, template) if lang != "en" else template
    return text.format(**params) if params else text


@dataclass(frozen=True)
class Phrase:
    """A sentence of a report before it is given a language: an English template and the
    values of its placeholders (already formatted as text: numbers read the same in every
    language), or phrases of their own (a clause inside a sentence), said in the same
    language."""

    template: str
    params: tuple[tuple[str, str | Phrase], ...] = ()

    def __str__(self) -> str:
        return self.in_lang("en")

    def in_lang(self, lang: str) -> str:
        """The sentence in ``lang``."""
        said = {
            name: value.in_lang(lang) if isinstance(value, Phrase) else value
            for name, value in self.params
        }
        return translate(self.template, lang, **said)


def phrase(template: str, /, **params: object) -> Phrase:
    """A ``Phrase`` of ``template`` with ``params`` turned into text (a ``Phrase`` param stays
    a phrase, to be said in the sentence's language)."""
    return Phrase(
        template,
        tuple(
            (name, value if isinstance(value, Phrase) else str(value))
            for name, value in params.items()
        ),
    )


def N_(template: str) -> str:  # noqa: N802 - gettext's name for "translate later"
    """Mark a template kept in a table (a heading, a label) for translation: returns it
    unchanged, and tells ``tests/test_translations.py`` that it needs an entry."""
    return template
