"""The one exception type for user-facing failures, and the exit codes gradx uses everywhere."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of every gradx command."""

    OK = 0  # every check agrees
    FAILED = 1  # a disagreement or a failure was found
    USAGE = 2  # the input could not be used


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


def caret_lines(source: str, start: int, end: int, indent: str = "  ") -> tuple[str, str]:
    """Return the source line and a ``^^^`` line under ``source[start:end]``."""
    start = max(0, min(start, len(source)))
    end = max(start + 1, min(end, len(source) + 1))
    return indent + source, indent + " " * start + "^" * (end - start)
