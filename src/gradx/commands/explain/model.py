"""Plain frozen dataclasses passed from the explain core to the renderers (stdlib only)."""

from __future__ import annotations

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

    def __str__(self) -> str:
        from gradx.render.explanation import plain_text

        return plain_text(self)
