"""Find catalog messages in cleaned text: which entries occur, where, and with what details.

Strategy, chosen so that megabytes of log stay fast and no input can make it hang:

1. Every pattern has a required lower-case literal (``Pattern.keyword``). ``str.find`` locates
   it; the regex only runs in a window around each place (at most ``_WINDOWS_PER_PATTERN``,
   the first and last ones), so the cost is linear in the input.
2. When two matches overlap (``a view of a leaf Variable …`` contains ``a leaf Variable …``),
   the longer one wins; on equal length the earlier catalog entry wins.
3. Error lines that nothing matched get a second chance with whitespace removed on both sides,
   which recognises messages wrapped in the middle of a word.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from gradx.commands.explain.catalog import Catalog, CatalogEntry, Pattern
from gradx.commands.explain.paste import Paste

_BACK = 400  # characters a pattern may need before its keyword
_FORWARD = 6000  # ... and after it (the DDP messages are about 1,000 characters)
_WINDOWS_PER_PATTERN = 20
_CONTEXT = 400  # an entry's ``context`` regex must occur this close before the message
_UNLESS_BEFORE = 200  # an entry's ``unless`` regexes are looked for this far before the message
_UNLESS_AFTER = 400  # ... and this far after its start
_SMALL_TEXT = 64 * 1024
_REGION_CHARS = 20_000  # below this, text without error lines is retried as one block
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Hit:
    """One occurrence of a catalog message in the flat text of a paste."""

    entry: CatalogEntry
    start: int
    end: int
    message: str
    groups: tuple[tuple[str, str], ...]
    count: int = 1  # occurrences this hit stands for (capped windows are counted, not matched)


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, so that offsets in the result match offsets in ``text``."""
    return text.encode("ascii", "replace").decode("ascii").lower()


def find_hits(paste: Paste, catalog: Catalog) -> list[Hit]:
    """Every catalog message in ``paste``, overlaps resolved, in text order."""
    flat = paste.flat
    lowered = ascii_lower(flat)
    candidates: list[tuple[Hit, int]] = []
    for rank, entry in enumerate(catalog.entries):
        for pattern in entry.patterns:
            for hit in _search(entry, pattern, flat, lowered):
                candidates.append((hit, rank))
    kept = _resolve_overlaps(candidates)
    kept.extend(_squeezed_hits(paste, catalog, kept))
    kept.sort(key=lambda hit: hit.start)
    return kept


def _search(entry: CatalogEntry, pattern: Pattern, flat: str, lowered: str) -> list[Hit]:
    if not pattern.keyword:
        return [
            _hit(entry, m, flat)
            for m in pattern.regex.finditer(flat)
            if _in_context(entry, flat, m)
        ]
    total = lowered.count(pattern.keyword)
    if not total:
        return []
    places = _keyword_places(lowered, pattern.keyword, total)
    hits: dict[tuple[int, int], Hit] = {}
    covered = -1
    for place in places:
        if place < covered:
            continue
        match = pattern.regex.search(flat, max(0, place - _BACK), place + _FORWARD)
        if match is None or match.start() > place:
            continue
        covered = match.end()
        if _in_context(entry, flat, match):
            hits[match.span()] = _hit(entry, match, flat)
    if total > len(places) and hits:
        # Only a sample of a message repeated thousands of times was matched: count them all.
        last = max(hits)
        hits[last] = _replace_count(hits[last], total - len(hits) + 1)
    return list(hits.values())


def _keyword_places(lowered: str, keyword: str, total: int) -> list[int]:
    """Offsets of ``keyword``: all of them, or the first and last few when there are many."""
    wanted = total if total <= _WINDOWS_PER_PATTERN else _WINDOWS_PER_PATTERN // 2
    first: list[int] = []
    start = lowered.find(keyword)
    while start >= 0 and len(first) < wanted:
        first.append(start)
        start = lowered.find(keyword, start + 1)
    if total <= _WINDOWS_PER_PATTERN:
        return first
    last: list[int] = []
    end = len(lowered)
    while len(last) < wanted:
        end = lowered.rfind(keyword, 0, end)
        if end <= first[-1]:
            break
        last.append(end)
    return first + last[::-1]


def _in_context(entry: CatalogEntry, flat: str, match: re.Match[str]) -> bool:
    """The entry's ``context`` is present just before the match and no ``unless`` is near it.

    ``unless`` patterns are compared with whitespace removed on both sides, so that a message
    wrapped in the middle of a word still vetoes the entry (for example "This view was created
    inside a custom Function" turns a no_grad-view match into a custom-Function one).
    """
    if entry.context is not None:
        if entry.context.search(flat, max(0, match.start() - _CONTEXT), match.start()) is None:
            return False
    if entry.unless:
        around = _SPACES.sub(
            "", flat[max(0, match.start() - _UNLESS_BEFORE) : match.start() + _UNLESS_AFTER]
        )
        if any(pattern.search(around) for pattern in entry.unless):
            return False
    return True


def _hit(entry: CatalogEntry, match: re.Match[str], flat: str) -> Hit:
    groups = tuple((k, v) for k, v in match.groupdict().items() if v)
    return Hit(
        entry=entry, start=match.start(), end=match.end(), message=match.group(0), groups=groups
    )


def _replace_count(hit: Hit, count: int) -> Hit:
    return Hit(hit.entry, hit.start, hit.end, hit.message, hit.groups, count)


def _resolve_overlaps(candidates: list[tuple[Hit, int]]) -> list[Hit]:
    ordered = sorted(
        candidates, key=lambda pair: (-(pair[0].end - pair[0].start), pair[1], pair[0].start)
    )
    kept: list[Hit] = []
    spans: list[tuple[int, int]] = []
    for hit, _rank in ordered:
        if any(hit.start < end and start < hit.end for start, end in spans):
            continue
        kept.append(hit)
        spans.append((hit.start, hit.end))
    return kept


def _squeezed_hits(paste: Paste, catalog: Catalog, kept: list[Hit]) -> list[Hit]:
    """Retry error lines that nothing matched, with all whitespace removed."""
    matched_lines = {paste.line_at(hit.start) for hit in kept}
    matched_lines |= {paste.line_at(max(hit.start, hit.end - 1)) for hit in kept}
    regions: list[tuple[int, str]] = []
    starts = [error.line for error in paste.errors] + [len(paste.lines)]
    first = max(0, len(paste.errors) - 50)
    counted = {p.keyword for hit in kept for p in hit.entry.patterns if p.keyword}
    for index, error in enumerate(paste.errors[first:], start=first):
        if any(error.line <= line <= error.end for line in matched_lines):
            continue
        if any(keyword in ascii_lower(error.text) for keyword in counted):
            continue  # a repeat of a message already found (and counted) elsewhere
        # The message may go on after a blank line: take lines up to the next error line.
        stop = min(starts[index + 1], error.line + 40)
        position = min(bisect_left(paste.flat_lines, error.line), len(paste.line_starts) - 1)
        text = " ".join(paste.lines[error.line : stop])[:_REGION_CHARS]
        regions.append((paste.line_starts[position], text))
    if not paste.errors and not kept and paste.flat and len(paste.flat) <= _SMALL_TEXT:
        regions.append((0, paste.flat))
    found: list[Hit] = []
    for offset, text in regions:
        squeezed = _SPACES.sub("", text)
        before = _SPACES.sub("", paste.flat[max(0, offset - _CONTEXT) : offset])
        best: Hit | None = None
        best_length = 0
        for entry in catalog.entries:
            for pattern in entry.patterns:
                match = pattern.squeezed.search(squeezed)
                if match is None or len(match.group(0)) <= best_length:
                    continue
                if entry.context_squeezed is not None and not entry.context_squeezed.search(
                    before + squeezed[: match.start()]
                ):
                    continue
                window = (before + squeezed)[
                    max(0, len(before) + match.start() - _UNLESS_BEFORE) : len(before)
                    + match.start()
                    + _UNLESS_AFTER
                ]
                if any(pattern.search(window) for pattern in entry.unless):
                    continue
                groups = tuple((k, v) for k, v in match.groupdict().items() if v)
                message = _SPACES.sub(" ", text).strip()
                best = Hit(
                    entry=entry, start=offset, end=offset + 1, message=message, groups=groups
                )
                best_length = len(match.group(0))
        if best is not None:
            found.append(best)
    return found
