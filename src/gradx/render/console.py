"""Consoles for stdout and stderr, and the one-red-line error printer."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from gradx.errors import GradxError


def stdout_console(width: int | None = None, soft_wrap: bool = False) -> Console:
    """A console writing to the current ``sys.stdout`` (so test runners can capture it).

    When the reader goes away (``gradx ... | head``) it stops quietly with exit status 141,
    as a process killed by SIGPIPE does, rather than rich's 1, which gradx uses for "a
    disagreement was found".
    """
    from rich.console import Console

    class PipeSafeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            raise SystemExit(141)

    return PipeSafeConsole(file=sys.stdout, width=width, highlight=False, soft_wrap=soft_wrap)


def stderr_console() -> Console:
    """A console writing to the current ``sys.stderr``."""
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def print_error(error: GradxError) -> None:
    """Print a user-facing error: one red line, then its detail lines (never a traceback)."""
    from rich.text import Text

    console = stderr_console()
    console.print(Text(f"error: {error.message}", style="bold red"))
    for line in error.detail:
        console.print(Text(line))


def print_internal_error(exc: BaseException) -> None:
    """Print an unexpected exception as one red line that asks for a bug report."""
    from rich.text import Text

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    stderr_console().print(
        Text(f"internal error: {what} (run again with --traceback and report it)", style="bold red")
    )
