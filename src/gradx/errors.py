"""The one exception type for user-facing failures, and the exit codes gradx uses everywhere."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of every gradx command: the one table, used by the CLI for all four."""

    OK = 0  # every check agrees
    FAILED = 1  # a disagreement or a failure was found
    USAGE = 2  # the input could not be used
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as a shell reports it
    BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), as in `gradx ... | head`

    @classmethod
    def for_outcome(cls, ok: bool, *, complete: bool = True) -> ExitCode:
        """The exit status a finished report deserves: OK when its verdict is good and
        ``complete``, else FAILED. A check that could not be made is not a check that agrees, so
        it fails the run too (the report says "inconclusive", not "mismatch"): gradx keeps its
        three exit codes, 0 agree, 1 not shown to agree, 2 unusable input.

        Each report says what "good" means (``exit_ok``): eval has no mismatch, check has no
        failure, error or timeout, explain-error recognised the error, graph delivered every
        gradient. Unusable input never gets a report; it raises GradxError (``USAGE``).
        """
        if not ok:
            return cls.FAILED
        return cls.OK if complete else cls.FAILED


class GradxError(Exception):
    """A failure the user can act on: a one-line message, optional context lines, an exit code.

    ``detail`` holds extra lines shown under the message (for instance the expression with a
    ``^^^`` caret under the offending part). The CLI prints ``message`` as one red line and
    ``detail`` beneath it, never a traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: ExitCode = ExitCode.USAGE,
        detail: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.detail = detail

    def __str__(self) -> str:
        return "\n".join((self.message, *self.detail))


def caret_lines(
    source: str, start: int, end: int, indent: str = "  ", width: int = 100
) -> tuple[str, str]:
    """Return the source line and a ``^^^`` line under ``source[start:end]``.

    Unprintable characters are shown as ``?`` and long sources are cut to a window around the
    caret, so the two lines always line up on a terminal.
    """
    shown = "".join(c if c.isprintable() else "?" for c in source)
    start = max(0, min(start, len(shown)))
    end = max(start + 1, min(end, len(shown) + 1))
    if len(shown) > width:
        left = max(0, min(start - width // 3, len(shown) - width))
        prefix = "..." if left > 0 else ""
        suffix = "..." if left + width < len(shown) else ""
        shown = prefix + shown[left : left + width] + suffix
        start, end = start - left + len(prefix), min(end - left, width) + len(prefix)
        end = max(end, start + 1)
    return indent + shown, indent + " " * start + "^" * (end - start)
