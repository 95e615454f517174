"""Explain autograd errors where they happen: ``sys.excepthook`` and the IPython extension."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

_previous_hook: Any = None
_lang: str | None = None


def _explanation_text(exc: BaseException, lang: str | None) -> str | None:
    """The plain-text explanation of an autograd error, or None for any other exception."""
    try:
        from gradx.commands.explain.explainer import explain_exception
        from gradx.translations import resolve_lang

        explanation = explain_exception(exc, resolve_lang(lang))
        return str(explanation) if explanation.recognised else None
    except Exception:  # noqa: BLE001 - a failing explanation must not hide the real error
        return None


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    (_previous_hook or sys.__excepthook__)(kind, value, tb)
    text = _explanation_text(value, _lang)
    if text:
        sys.stderr.write("\n" + text)


def install_excepthook(*, lang: str | None = None) -> None:
    """Chain gradx's explanation after the current ``sys.excepthook`` (idempotent)."""
    global _previous_hook, _lang
    _lang = lang
    if sys.excepthook is not _excepthook:
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook


def uninstall_excepthook() -> None:
    """Restore the excepthook that was active before ``install_excepthook``."""
    global _previous_hook
    if sys.excepthook is _excepthook:
        sys.excepthook = _previous_hook or sys.__excepthook__
    _previous_hook = None


def _ipython_handler(
    shell: Any, kind: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> Any:
    shell.showtraceback((kind, value, tb), tb_offset=tb_offset)
    text = _explanation_text(value, _lang)
    if text:
        print(text, file=sys.stderr)
    return None


def register_ipython(ipython: Any) -> None:
    """Show explanations under tracebacks of autograd errors in an IPython shell."""
    ipython.set_custom_exc((Exception,), _ipython_handler)


def unregister_ipython(ipython: Any) -> None:
    """Back to IPython's normal traceback display."""
    ipython.set_custom_exc((), None)
