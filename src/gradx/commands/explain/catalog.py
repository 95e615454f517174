"""Load and validate the catalog of autograd errors (``catalog.toml``, shipped as package data).

The catalog is knowledge kept as data: one ``[[entry]]`` per error or warning, with the regular
expressions that recognise it, real example messages, and the explanation, causes and fix in
every supported language. This module only reads it; matching lives in ``matcher.py``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

from gradx.commands.explain.model import Catalog as Catalog
from gradx.commands.explain.model import CatalogEntry as CatalogEntry
from gradx.commands.explain.model import CauseText as CauseText
from gradx.commands.explain.model import Pattern as Pattern
from gradx.commands.explain.model import Text as Text

LANGS = ("en", "zh")
KINDS = ("error", "warning")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@cache
def load_catalog() -> Catalog:
    """Read, validate and compile the shipped catalog (once per process)."""
    source = (
        resources.files("gradx.commands.explain")
        .joinpath("catalog.toml")
        .read_text(encoding="utf-8")
    )
    return parse_catalog(source)


def parse_catalog(source: str) -> Catalog:
    """Parse catalog TOML text; raises ValueError naming the entry and field that is wrong."""
    data = tomllib.loads(source)
    entries = tuple(_entry(raw, index) for index, raw in enumerate(data.get("entry", [])))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"catalog: duplicate id {entry.id!r}")
        seen.add(entry.id)
    general = data.get("general", {})

    def texts(name: str) -> tuple[Text, ...]:
        return tuple(
            Text(en=en, zh=zh)
            for en, zh in zip(
                _strings(general, f"{name}_en", "general"),
                _strings(general, f"{name}_zh", "general"),
                strict=True,
            )
        )

    return Catalog(
        entries=entries,
        advice=texts("advice"),
        traceback_advice=texts("traceback_advice") if "traceback_advice_en" in general else (),
    )


def _entry(raw: dict, index: int) -> CatalogEntry:
    where = f"entry #{index + 1} ({raw.get('id', '?')})"
    entry_id = _string(raw, "id", where)
    if not _ID.match(entry_id):
        raise ValueError(f"catalog: {where}: id must be kebab-case")
    kind = _string(raw, "kind", where)
    if kind not in KINDS:
        raise ValueError(f"catalog: {where}: kind must be one of {KINDS}")
    patterns = tuple(_pattern(p, where) for p in _strings(raw, "patterns", where))
    if not patterns:
        raise ValueError(f"catalog: {where}: needs at least one pattern")
    examples = _strings(raw, "examples", where)
    if not examples:
        raise ValueError(f"catalog: {where}: needs at least one example")
    docs = _strings(raw, "docs", where)
    if not docs or not all(url.startswith("https://") for url in docs):
        raise ValueError(f"catalog: {where}: docs must be https:// links")
    causes = []
    for cause in raw.get("causes", []):
        cause_id = _string(cause, "id", where)
        causes.append(CauseText(id=cause_id, text=_text(cause, "text", where)))
    if len({c.id for c in causes}) != len(causes):
        raise ValueError(f"catalog: {where}: duplicate cause id")
    context = raw.get("context")
    unless = []
    for source in _strings(raw, "unless", where):
        try:
            unless.append(re.compile(squeeze_pattern(source), re.IGNORECASE))
        except re.error as error:
            raise ValueError(f"catalog: {where}: bad unless pattern {source!r}: {error}") from None
    aliases = _strings(raw, "aliases", where)
    if not all(_ID.match(alias) for alias in aliases):
        raise ValueError(f"catalog: {where}: aliases must be kebab-case")
    return CatalogEntry(
        id=entry_id,
        aliases=aliases,
        kind=kind,
        exception=_string(raw, "exception", where),
        title=_text(raw, "title", where),
        patterns=patterns,
        context=re.compile(context, re.IGNORECASE) if context else None,
        context_squeezed=re.compile(squeeze_pattern(context).replace(r"\b", ""), re.IGNORECASE)
        if context
        else None,
        unless=tuple(unless),
        examples=examples,
        explanation=_text(raw, "explanation", where),
        causes=tuple(causes),
        fix=_text(raw, "fix", where),
        summary=_text(raw, "summary", where),
        before=_string(raw, "before", where).strip("\n"),
        after=_string(raw, "after", where).strip("\n"),
        docs=docs,
        anomaly_rerun=bool(raw.get("anomaly_rerun", False)),
    )


def _string(raw: dict, key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"catalog: {where}: {key!r} must be a non-empty string")
    return value


def _strings(raw: dict, key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"catalog: {where}: {key!r} must be a list of strings")
    return tuple(value)


def _text(raw: dict, key: str, where: str) -> Text:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"catalog: {where}: {key!r} needs {' and '.join(LANGS)} texts")
    texts = {lang: _string(value, lang, f"{where}.{key}").strip() for lang in LANGS}
    return Text(**texts)


def _pattern(source: str, where: str) -> Pattern:
    try:
        regex = re.compile(source, re.IGNORECASE)
        squeezed = re.compile(squeeze_pattern(source), re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"catalog: {where}: bad pattern {source!r}: {error}") from None
    return Pattern(source=source, regex=regex, keyword=required_literal(source), squeezed=squeezed)


_SPECIAL = set("\\.^$*+?{}[]()|")
_QUANTIFIERS = set("*+?{")
_ESCAPED_LITERALS = set("\\.^$*+?{}[]()|/-'\" ")


def required_literal(pattern: str) -> str:
    """The longest lower-case literal that every match of ``pattern`` must contain.

    Used as a fast ``str.find`` pre-filter so that a multi-megabyte log is handed to the regex
    engine only around the places where a message can be. Conservative: text inside groups and
    classes is skipped, a top-level ``|`` gives up (returns ""), and a character followed by a
    quantifier is not counted.
    """
    runs: list[str] = []
    run: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            depth += 1
            runs.append("".join(run))
            run.clear()
            i += 1
            continue
        if char == ")":
            depth = max(0, depth - 1)
            i += 1
            continue
        if char == "|" and depth == 0:
            return ""
        if char == "\\" and i + 1 < len(pattern):
            literal = pattern[i + 1] if pattern[i + 1] in _ESCAPED_LITERALS else None
            i += 2
        elif char == "[":
            literal = None
            i = _skip_class(pattern, i)
        else:
            literal = None if char in _SPECIAL else char
            i += 1
        if depth > 0:
            continue
        if literal is None or (i < len(pattern) and pattern[i] in _QUANTIFIERS):
            runs.append("".join(run))
            run.clear()
        else:
            run.append(literal)
    runs.append("".join(run))
    best = max(runs, key=len).lower()
    return best if len(best) >= 4 and best.isascii() else ""


def _skip_class(pattern: str, start: int) -> int:
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def squeeze_pattern(pattern: str) -> str:
    """The pattern with every literal space and ``\\s`` token removed.

    Matched against text with all whitespace removed, it still recognises a message that a
    terminal or an e-mail client wrapped in the middle of a word.
    """
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            pair = pattern[i : i + 2]
            i += 2
            if pair == "\\s" and not in_class:
                if i < len(pattern) and pattern[i] in "*+?":
                    i += 1
                continue
            if pair == "\\ " and not in_class:
                continue
            out.append(pair)
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == " " and not in_class:
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)
