"""SIGTERM and SIGHUP unwind gradx like Ctrl-C does (stdlib only).

CI cancellations, ``timeout``, IDE stop buttons and ``docker stop`` send SIGTERM; closing a
terminal sends SIGHUP. Python's default for both is to die on the spot, which would leave
temporary files and child processes behind. :func:`install` makes them raise
:class:`Terminated` instead, a ``KeyboardInterrupt``, so every ``finally`` and ``except
BaseException`` that cleans up after Ctrl-C also runs for them; gradx then exits 128 + N.
"""

from __future__ import annotations

import signal
from types import FrameType

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """gradx was asked to stop by a signal; ``exit_status`` is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_status = 128 + signum


def _raise(signum: int, frame: FrameType | None) -> None:
    # One signal is enough: a second one during the clean-up must not cut the clean-up short.
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def install() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` in the main thread."""
    for sig in SIGNALS:
        if signal.getsignal(sig) is signal.SIG_IGN:  # nohup: the user asked to ignore it
            continue
        signal.signal(sig, _raise)
