"""Consoles for stdout and stderr, the theme of semantic styles, and the one-red-line error printer.

Renderers style text by what it means (``ok``, ``mismatch``, ``hint``…), never by colour; the
colours live in ``STYLES`` alone, and every console gradx makes carries them as its theme.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.theme import Theme

    from gradx.errors import GradxError

# What each style means -> how it looks. Typography ("bold", "dim") is used directly.
STYLES: dict[str, str] = {
    # verdicts of eval points and check targets
    "ok": "green",
    "nondifferentiable": "yellow",
    "domain": "magenta",
    "inconclusive": "cyan",  # could not be checked: said, not hidden, not red
    "mismatch": "bold red",
    "pass": "green",
    "fail": "bold red",
    "error": "bold magenta",
    "timeout": "bold magenta",
    # roles of text
    "alert": "bold red",  # the one red error line, a failed backward, a missing gradient
    "warning": "bold yellow",
    "caution": "yellow",
    "hint": "cyan",  # what to try next, folded repeats
    "id": "bold cyan",  # catalog ids, leaf names
    "code": "cyan",  # source lines
    "good": "green",  # the fixed code, a cause that applies, a gradient that arrived
    "bad": "red",  # the broken code, a cut in the graph
    "confirmed": "bold green",  # the ✔ of a cause the script shows
    "link": "blue",
}


def theme() -> Theme:
    """The rich Theme of ``STYLES`` (imports rich)."""
    from rich.theme import Theme

    return Theme(STYLES)


def stdout_console(width: int | None = None, soft_wrap: bool = False) -> Console:
    """A console writing to the current ``sys.stdout`` (so test runners can capture it).

    When the reader goes away (``gradx ... | head``) it stops quietly with ``ExitCode.BROKEN_PIPE`` (141),
    as a process killed by SIGPIPE does, rather than rich's 1, which gradx uses for "a
    disagreement was found".
    """
    from rich.console import Console

    from gradx.errors import ExitCode

    class PipeSafeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            raise SystemExit(int(ExitCode.BROKEN_PIPE))

    return PipeSafeConsole(
        file=sys.stdout, width=width, highlight=False, soft_wrap=soft_wrap, theme=theme()
    )


def stderr_console() -> Console:
    """A console writing to the current ``sys.stderr``."""
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True, theme=theme())


def print_error(error: GradxError) -> None:
    """Print a user-facing error: one red line, then its detail lines (never a traceback)."""
    from rich.text import Text

    console = stderr_console()
    console.print(Text(f"error: {error.message}", style="alert"))
    for line in error.detail:
        console.print(Text(line))


def print_internal_error(exc: BaseException) -> None:
    """Print an unexpected exception as one red line that asks for a bug report."""
    from rich.text import Text

    from gradx.text import exception_line

    what = exception_line(exc)
    stderr_console().print(
        Text(f"internal error: {what} (run again with --traceback and report it)", style="alert")
    )
