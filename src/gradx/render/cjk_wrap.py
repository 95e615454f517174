"""Line breaking for Chinese text: between any two Chinese characters, never inside a number.

rich breaks lines only at spaces, so a run of Chinese characters (which has none) moves to
the next line whole and leaves a ragged gap. ``wrapped`` gives a rich ``Text`` the breaks a
Chinese reader expects: at spaces and between Chinese characters, but not before closing
punctuation (，。：；）…) nor after opening punctuation (（「…) or a minus sign. Runs of
other characters (numbers such as ``-1.6e+01``, names such as ``x[0]``) stay whole, so a
number never wraps mid-digit. Styles are kept (``Text.divide``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.text import Text

# CJK ideographs, kana, CJK punctuation and full-width forms: each one a place to break.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f]")
_NO_LINE_START = set("，。：；、）」』！？％…,.:;)]}!?%")
_NO_LINE_END = set("（「『([{−-")
_TOKEN = re.compile(r"\s*\S+")


def _breakable(before: str, after: str) -> bool:
    if after in _NO_LINE_START or before in _NO_LINE_END:
        return False
    return bool(_CJK.match(before) or _CJK.match(after))


def break_offsets(text: str, width: int) -> list[int]:
    """Where to break ``text`` (character offsets) so that each line fits in ``width`` cells;
    a piece longer than a line (a long number) is left for rich to fold."""
    # Each candidate: (where the whitespace before it starts, where it starts).
    candidates: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        gap_start, end = match.span()
        start = end - len(match.group().lstrip())
        candidates.append((gap_start, start))
        candidates.extend((k, k) for k in range(start + 1, end) if _breakable(text[k - 1], text[k]))
    offsets: list[int] = []
    if not candidates:
        return offsets
    line_start = candidates[0][1]
    for index in range(1, len(candidates)):
        start = candidates[index][1]
        end = candidates[index + 1][0] if index + 1 < len(candidates) else len(text)
        if "\n" in text[line_start:end]:
            line_start = text.rindex("\n", line_start, end) + 1  # rich breaks there itself
            continue
        if cell_len(text[line_start:end].rstrip()) > width:
            offsets.append(start)
            line_start = start
    return offsets


class Wrapped:
    """A ``Text`` that wraps the Chinese way at whatever width it is given."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = max(1, options.max_width)
        for line in self.text.divide(break_offsets(self.text.plain, width)):
            line.rstrip()
            line.overflow = "fold"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((cell_len(line) for line in self.text.plain.splitlines()), default=0)
        return Measurement(min(longest, 8), longest)


def wrapped(text: Text | str, lang: str, style: str = "") -> RenderableType:
    """``text`` as it should wrap in ``lang``: unchanged in English (rich breaks at spaces),
    ``Wrapped`` in Chinese."""
    if isinstance(text, str):
        text = Text(text, style=style)
    return Wrapped(text) if lang == "zh" else text
