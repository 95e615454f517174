"""Plain frozen dataclasses passed from the explain core to the renderers (stdlib only)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLine:
    """One frame of a traceback: where it is and the line of code found there."""

    file: str
    line: int
    function: str = ""
    source: str = ""
    library: bool = False  # inside torch, site-packages or the standard library

    def location(self) -> str:
        """``file:line`` as editors and terminals understand it."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Cause:
    """One possible reason for an error; ``applies`` is set when the script shows it is this one."""

    id: str
    text: str
    applies: bool = False
    evidence: SourceLine | None = None


@dataclass(frozen=True)
class Fix:
    """How to repair the error: prose, then a minimal before/after code example."""

    text: str
    summary: str
    before: str
    after: str


@dataclass(frozen=True)
class Finding:
    """One recognised autograd error or warning, explained in one language."""

    entry_id: str
    title: str
    kind: str  # "error" or "warning"
    message: str  # the text that was recognised, whitespace collapsed
    explanation: str
    causes: tuple[Cause, ...]
    fix: Fix
    docs: tuple[str, ...]
    exception: str = ""  # the exception or warning class torch raises for it
    details: tuple[tuple[str, str], ...] = ()  # variable parts of the message (node, shape, index)
    count: int = 1  # how often the message occurs in the input
    where: SourceLine | None = None  # the user's own frame
    frames: tuple[SourceLine, ...] = ()  # the whole traceback, library frames included
    forward: SourceLine | None = None  # the forward line anomaly mode blamed


@dataclass(frozen=True)
class RunSummary:
    """What happened when ``--run`` executed the user's script."""

    script: str
    args: tuple[str, ...]
    outcome: str  # "error", "finished", "crashed"
    exit_status: int | None
    exception: str = ""  # "TypeName: first line of message" of what the script raised
    where: SourceLine | None = None  # the user frame of that exception
    anomaly_rerun: bool = False  # True when the script was run again under anomaly detection
    output_tail: tuple[str, ...] = ()  # the last lines the script printed (stderr), for context
    printed: tuple[str, ...] = ()  # the last lines the script printed on stdout
    printed_omitted: int = 0  # earlier stdout lines not kept
    accumulation: tuple[int, int] | None = None  # lines of two backward() calls whose grads add up
    killed_by: str | None = None  # "SIGKILL (out of memory, or killed from outside)"


@dataclass(frozen=True)
class Explanation:
    """Everything gradx found in one input: the recognised findings, in input order, errors first.

    ``unrecognised`` lists error lines that were found but are not autograd errors gradx knows;
    ``advice`` holds general debugging advice, filled in when nothing was recognised.
    """

    findings: tuple[Finding, ...]
    lang: str
    source: str  # "text", "id", "run" or "exception"
    unrecognised: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # codes about the input itself, e.g. "input-truncated"
    run: RunSummary | None = None

    @property
    def recognised(self) -> bool:
        """True when at least one autograd error or warning was recognised."""
        return bool(self.findings)

    @property
    def primary(self) -> Finding | None:
        """The finding to act on first (the first error, else the first warning)."""
        return self.findings[0] if self.findings else None

    @property
    def entry_id(self) -> str | None:
        """Catalog id of the primary finding, or None."""
        return self.primary.entry_id if self.primary else None

    @property
    def title(self) -> str | None:
        """Title of the primary finding, or None."""
        return self.primary.title if self.primary else None

    @property
    def fix_summary(self) -> str | None:
        """One-line fix of the primary finding, or None."""
        return self.primary.fix.summary if self.primary else None

    @property
    def exit_ok(self) -> bool:
        """What the exit status follows (see ``ExitCode.for_outcome``): an error was recognised."""
        return self.recognised

    def __str__(self) -> str:
        from gradx.plain_text import plain_text  # the renderer, registered by gradx/__init__.py

        return plain_text(self)


# -- the catalog (loaded and validated by catalog.py) ----------------------------------------


@dataclass(frozen=True)
class Text:
    """A piece of prose in every supported language."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (English when ``lang`` is unknown)."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class CauseText:
    """One possible cause of an entry, identified so that the script inspection can point at it."""

    id: str
    text: Text


@dataclass(frozen=True)
class Pattern:
    """A compiled regex plus the lower-case literal every match contains (a cheap pre-filter)."""

    source: str
    regex: re.Pattern[str]
    keyword: str  # "" when the pattern has no required literal of 4+ characters
    squeezed: re.Pattern[str]  # the same pattern with spaces removed, for text wrapped mid-word


@dataclass(frozen=True)
class CatalogEntry:
    """One autograd error or warning: how to recognise it and how to explain it."""

    id: str
    kind: str
    exception: str
    title: Text
    patterns: tuple[Pattern, ...]
    context: re.Pattern[str] | None  # must also be found just before the message, if set
    context_squeezed: re.Pattern[str] | None  # the same without spaces or word boundaries
    unless: tuple[re.Pattern[str], ...]  # squeezed regexes that, found around the message, veto it
    examples: tuple[str, ...]
    explanation: Text
    causes: tuple[CauseText, ...]
    fix: Text
    summary: Text
    before: str
    after: str
    docs: tuple[str, ...]
    anomaly_rerun: bool
    aliases: tuple[str, ...] = ()  # other names people look it up by (retain-graph)


@dataclass(frozen=True)
class Catalog:
    """All entries, in file order, plus the general advice given when nothing is recognised."""

    entries: tuple[CatalogEntry, ...]
    advice: tuple[Text, ...]
    traceback_advice: tuple[Text, ...] = ()  # only for input that has a traceback

    def __post_init__(self) -> None:
        names = [e.id for e in self.entries] + [a for e in self.entries for a in e.aliases]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"catalog: an id or alias names two entries: {', '.join(clash)}")

    def get(self, entry_id: str) -> CatalogEntry | None:
        """The entry with this id or alias (``snake_case`` is accepted for ``kebab-case``)."""
        wanted = entry_id.strip().lower().replace("_", "-")
        for entry in self.entries:
            if entry.id == wanted:
                return entry
        for entry in self.entries:
            if wanted in entry.aliases:
                return entry
        return None

    @property
    def names(self) -> tuple[str, ...]:
        """Every id and alias (what ``gradx explain-error NAME`` accepts)."""
        return (*self.ids, *(a for entry in self.entries for a in entry.aliases))

    @property
    def exit_ok(self) -> bool:
        """Listing the catalog always succeeds (``--list``)."""
        return True

    @property
    def ids(self) -> tuple[str, ...]:
        """Every entry id, in catalog order."""
        return tuple(entry.id for entry in self.entries)
