"""Turn pasted text (a message, a traceback, a whole log) into something a matcher can search.

Real pastes are messy: quote prefixes (``> ``), launcher prefixes (``[rank0]: ``), Markdown
fences, colour codes, messages wrapped over several lines, backticks added by chat programs,
several tracebacks in a row. ``parse_paste`` strips all of that and keeps two views of the
text: the cleaned lines (to find tracebacks and error lines) and one flat string in which
whitespace runs are single spaces (to match messages however they were wrapped).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from gradx.commands.explain.model import SourceLine

MAX_INPUT_BYTES = 4 * 1024 * 1024  # keep the last 4 MiB of a log: the error is at the end
_MAX_LINE = 20_000  # longer lines are cut in pieces of this length

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,200}(?:\x07|\x1b\\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PREFIX = re.compile(
    r"^[ \t]*(?:"
    r">+[ \t]?"  # e-mail and Markdown quotes, >>> prompts
    r"|\[(?:rank|RANK|default)[ \t]?\d*\]:[ \t]?"  # torchrun / elastic launchers
    r"|\*\*\*[ \t]"  # pdb and some loggers
    r"|#[ \t]"  # comments pasted from notebooks
    r"|E[ \t]{3}"  # pytest failure lines
    r")"
)
_PREFIX_STARTS = frozenset(">[*#E")  # first characters _PREFIX can match (a cheap test)
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)[\w+.-]*[ \t]*$")
_SPACES = re.compile(r"\s+")

_HEADER = re.compile(
    r"^(?:(?P<loc>\S.{0,300}?:\d+): )?"
    r"(?P<type>(?:[A-Za-z_]\w*\.){0,8}[A-Z]\w{0,80}(?:Error|Exception|Warning|Interrupt))"
    r"(?::[ \t]?(?P<msg>.*))?$"
)
_HEADER_WORDS = re.compile(r"Error|Exception|Warning|Interrupt")
_CPP_WARNING = re.compile(r"^\[W[^\]]{0,200}\] Warning: (?P<msg>.*)$")
_FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]{1,1000})", line (?P<line>\d{1,9})(?:, in (?P<func>.*))?$'
)
_IPYTHON_FRAME = re.compile(r"^\s*(?P<file>Cell In\s?\[\d{1,9}\]), line (?P<line>\d{1,9})")
_IPYTHON_FILE = re.compile(
    r"^\s*File (?P<file>[^\s\"][^:\"]{0,1000}\.py):(?P<line>\d{1,9}), in (?P<func>.{0,300})$"
)
_IPYTHON7_FRAME = re.compile(
    r"^\s*(?P<file><ipython-input-[^>]{1,200}>|[^\s<>\"]{1,1000}\.py) in (?P<func>[\w<>.]{1,200})(?:\(.{0,300}\))?\s*$"
)
_IPYTHON_ARROW = re.compile(r"^-*> ?(?P<line>\d{1,9}) (?P<source>.*)$")
_BOUNDARY = re.compile(
    r"^(?:Traceback \(most recent call last\)|During handling of the above exception"
    r"|The above exception was the direct cause)"
)
_LIBRARY_PATH = re.compile(
    r"(?:site-packages|dist-packages|[/\\]lib[/\\]python\d|[/\\]Lib[/\\]|<frozen |[/\\]torch[/\\]"
    r"|[/\\]importlib[/\\])"
)


@dataclass(frozen=True)
class ErrorLine:
    """A line that names an exception or warning (``RuntimeError: …``) and its continuation."""

    line: int  # index into Paste.lines
    end: int  # index of the last line of the message (inclusive)
    type: str
    text: str  # "Type: message", continuation lines joined with spaces


@dataclass(frozen=True)
class Paste:
    """Cleaned text: lines for structure, ``flat`` (single-spaced) for message matching."""

    lines: tuple[str, ...]
    flat: str
    line_starts: tuple[int, ...]  # offset in ``flat`` of each line in ``flat_lines``
    flat_lines: tuple[int, ...]  # index into ``lines`` of each line present in ``flat``
    errors: tuple[ErrorLine, ...]

    def line_at(self, offset: int) -> int:
        """Index into ``lines`` of the line holding ``flat[offset]``."""
        position = bisect_right(self.line_starts, offset) - 1
        return self.flat_lines[max(0, position)] if self.flat_lines else 0

    def frames_between(self, first: int, last: int) -> tuple[SourceLine, ...]:
        """Traceback frames printed on lines ``first`` .. ``last - 1``."""
        return parse_frames(self.lines[first:last])

    def frames_following(self, line: int, limit: int = 200) -> tuple[SourceLine, ...]:
        """Frames printed right after ``line`` (anomaly mode's forward traceback), up to the
        ``(Triggered internally …)`` suffix, a new traceback or a new error line."""
        end = line + 1
        while end < min(len(self.lines), line + 1 + limit):
            text = self.lines[end].strip()
            if (
                text.startswith("(Triggered internally")
                or _BOUNDARY.match(text)
                or _HEADER.match(text)
            ):
                break
            end += 1
        return parse_frames(self.lines[line + 1 : end])


def decode_input(data: bytes) -> str:
    """Bytes from stdin or a file as text: UTF-8, bad bytes replaced, never an exception."""
    return data.decode("utf-8", errors="replace")


def looks_binary(text: str) -> bool:
    """True when the text is mostly control characters or undecodable bytes."""
    sample = text[:65536]
    if not sample:
        return False
    bad = sum(1 for char in sample if char == "\ufffd" or (char < " " and char not in "\t\n\r\x1b"))
    return bad > len(sample) * 0.1


def clean_line(line: str) -> str:
    """One line without colour codes, control characters, quote/launcher prefixes and backticks."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if not line.isprintable():  # cheap test first: most log lines have no control characters
        line = _CONTROL.sub("", line)
    if ("```" in line or "~~~" in line) and _FENCE.match(line):
        return ""
    for _ in range(4):  # "> [rank0]: > text": prefixes can be stacked
        if line.lstrip()[:1] not in _PREFIX_STARTS:
            break
        stripped = _PREFIX.sub("", line, count=1)
        if stripped == line:
            break
        line = stripped
    return line.replace("`", "").rstrip()


def _pieces(line: str) -> list[str]:
    """A very long line (a minified log, binary data) cut into pieces, like a terminal wraps it,
    so that no single line makes the per-line regexes slow."""
    if len(line) <= _MAX_LINE:
        return [line]
    return [line[start : start + _MAX_LINE] for start in range(0, len(line), _MAX_LINE)]


def parse_paste(text: str) -> Paste:
    """Clean ``text`` and index it (see the module docstring)."""
    lines = tuple(clean_line(piece) for line in text.splitlines() for piece in _pieces(line))
    pieces: list[str] = []
    starts: list[int] = []
    flat_lines: list[int] = []
    offset = 0
    for index, line in enumerate(lines):
        collapsed = " ".join(line.split())
        if not collapsed:
            continue
        starts.append(offset)
        flat_lines.append(index)
        pieces.append(collapsed)
        offset += len(collapsed) + 1
    return Paste(
        lines=lines,
        flat=" ".join(pieces),
        line_starts=tuple(starts),
        flat_lines=tuple(flat_lines),
        errors=tuple(_error_lines(lines)),
    )


def _error_lines(lines: tuple[str, ...]) -> list[ErrorLine]:
    found: list[ErrorLine] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not _HEADER_WORDS.search(line[:5000]):  # cheap test before the full header regex
            index += 1
            continue
        header = _HEADER.match(line) if len(line) < 5000 else None
        cpp = None if header else _CPP_WARNING.match(line)
        if not header and not cpp:
            index += 1
            continue
        kind = header.group("type") if header else "Warning"
        match = header or cpp
        assert match is not None  # one of the two matched (checked just above)
        message = [match.group("msg") or ""]
        end = index
        while end + 1 < len(lines) and end - index < 40:
            nxt = lines[end + 1].strip()
            if not nxt or _BOUNDARY.match(nxt) or _FRAME.match(nxt) or _HEADER.match(nxt):
                break
            message.append(nxt)
            end += 1
        text = " ".join(" ".join(message).split())
        found.append(
            ErrorLine(line=index, end=end, type=kind, text=f"{kind}: {text}" if text else kind)
        )
        index = end + 1
    return found


def parse_frames(lines: tuple[str, ...] | list[str]) -> tuple[SourceLine, ...]:
    """Frames of a printed traceback, with the line of code shown for each.

    Understands Python's ``File "x.py", line 3, in f`` (source on the next line), IPython 8's
    ``Cell In[3], line 2`` and ``File ~/x.py:626, in f(...)``, and IPython 7's
    ``<ipython-input-3-…> in <module>`` (IPython marks the line with ``---->``).
    """
    frames: list[SourceLine] = []
    for index, line in enumerate(lines):
        match = _FRAME.match(line)
        python = match is not None
        if match is None:
            match = (
                _IPYTHON_FRAME.match(line)
                or _IPYTHON_FILE.match(line)
                or _IPYTHON7_FRAME.match(line)
            )
        if match is None:
            continue
        groups = match.groupdict()
        number = int(groups["line"]) if groups.get("line") else 0
        source = ""
        for following in lines[index + 1 : index + 14]:
            stripped = following.strip()
            if _is_frame_start(following) or _HEADER.match(stripped):
                break
            if python:
                if not stripped or set(stripped) <= set("^~ "):  # 3.11+ underlines the failing part
                    if not stripped:
                        break
                    continue
                source = stripped
                break
            arrow = _IPYTHON_ARROW.match(stripped)
            if arrow and (number == 0 or int(arrow.group("line")) == number):
                number = int(arrow.group("line"))
                source = arrow.group("source").strip()
                break
        if number == 0:
            continue  # "name.py in f" without IPython's ----> line: not a frame after all
        file = groups["file"]
        frames.append(
            SourceLine(
                file=file,
                line=number,
                function=(groups.get("func") or "").strip(),
                source=source,
                library=is_library_path(file),
            )
        )
    return tuple(frames)


def _is_frame_start(line: str) -> bool:
    return bool(
        _FRAME.match(line)
        or _IPYTHON_FRAME.match(line)
        or _IPYTHON_FILE.match(line)
        or _IPYTHON7_FRAME.match(line)
    )


def is_library_path(file: str) -> bool:
    """Guess from a path alone whether a frame belongs to torch, site-packages or the stdlib."""
    return bool(_LIBRARY_PATH.search(file))


def user_frame(frames: tuple[SourceLine, ...]) -> SourceLine | None:
    """The innermost frame that is the user's own code (not a library), if any."""
    for frame in reversed(frames):
        if not frame.library:
            return frame
    return None
