"""Consoles for stdout and stderr, and the one-red-line error printer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from gradx.errors import GradxError


def stdout_console(width: int | None = None) -> Console:
    """A console writing to the current ``sys.stdout`` (so test runners can capture it)."""
    from rich.console import Console

    return Console(file=sys.stdout, width=width, highlight=False, soft_wrap=False)


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
