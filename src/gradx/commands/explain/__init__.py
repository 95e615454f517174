"""Autograd errors decoded: ``gradx.explain(exc_or_text)`` and the pieces behind ``explain-error``.

Importing this package is cheap (no torch, no rich).
"""

from __future__ import annotations

import warnings
from typing import Any

from gradx.commands.explain.model import Cause, Explanation, Finding, Fix, RunSummary, SourceLine

__all__ = [
    "Cause",
    "Explanation",
    "Finding",
    "Fix",
    "RunSummary",
    "SourceLine",
    "describe_exception",
    "explain",
    "install",
    "load_ipython_extension",
    "uninstall",
    "unload_ipython_extension",
]


def explain(exc_or_text: Any, *, lang: str | None = None) -> Explanation:
    """Explain an autograd error or warning.

    ``exc_or_text`` may be an exception object (its traceback is used to point at your line),
    a warning (``warnings.WarningMessage`` or a ``Warning`` instance), or text: a message, a
    whole traceback or a log. ``lang`` is ``"en"`` or ``"zh"`` (default: from the locale).
    Returns an Explanation; ``.recognised`` tells whether anything was recognised, and
    ``print(explanation)`` shows it as text.
    """
    from gradx.commands.explain import explainer

    language = api_lang(lang)
    if isinstance(exc_or_text, warnings.WarningMessage):
        category = getattr(exc_or_text.category, "__name__", "Warning")
        return explainer.explain_warning(str(exc_or_text.message), category, language)
    if isinstance(exc_or_text, Warning):
        return explainer.explain_warning(str(exc_or_text), type(exc_or_text).__name__, language)
    if isinstance(exc_or_text, BaseException):
        return explainer.explain_exception(exc_or_text, language)
    if not isinstance(exc_or_text, (str, bytes)):
        raise TypeError(
            f"explain() takes an exception, a warning or text, not {type(exc_or_text).__name__}"
        )
    text, truncated = last_part(exc_or_text)
    entry = explainer.lookup_entry(text.strip()) if len(text) < 200 else None
    if entry is not None:
        return explainer.explain_entry(entry.id, language)
    return explainer.explain_text(text, language, truncated=truncated)


def last_part(text: str | bytes) -> tuple[str, bool]:
    """The last 4 MiB of ``text`` (as the CLI keeps of a log: the error is at the end)."""
    from gradx.commands.explain.paste import MAX_INPUT_BYTES, decode_input

    truncated = False
    if isinstance(text, str):
        if len(text) <= MAX_INPUT_BYTES // 4:  # at most 4 bytes a character: surely small enough
            return text, False
        data = text[-MAX_INPUT_BYTES:].encode("utf-8", errors="replace")
        truncated = len(text) > MAX_INPUT_BYTES
    else:
        data = text
    if len(data) > MAX_INPUT_BYTES:
        data = data[-MAX_INPUT_BYTES:]
        truncated = True
    if not truncated and isinstance(text, str):
        return text, False
    return decode_input(data), truncated


def api_lang(lang: object) -> str:
    """Check the ``lang`` argument of the Python API: TypeError or ValueError, never later."""
    from gradx.errors import GradxError
    from gradx.translations import LANGUAGES, resolve_lang

    if lang is not None and not isinstance(lang, str):
        raise TypeError(f"lang must be a str ({' or '.join(LANGUAGES)}) or None, not {lang!r}")
    try:
        return resolve_lang(lang)
    except GradxError:
        raise ValueError(f"lang must be {' or '.join(LANGUAGES)} (or None), not {lang!r}") from None


def describe_exception(exc: BaseException, *, lang: str | None = None) -> Explanation | None:
    """Describe an exception raised by user code, for reports such as ``gradx check``.

    Stable API. Returns None when ``exc`` (or an exception in its ``__cause__``/``__context__``
    chain) is not an autograd error in the catalog. Otherwise returns an Explanation whose
    ``.entry_id`` is the catalog id, ``.title`` a short title and ``.fix_summary`` the fix in
    one line (``.primary`` holds the full Finding). It never reads source files, never runs
    anything and never raises; ``lang`` is "en" or "zh" (default: from the locale).
    """
    from gradx.commands.explain import explainer
    from gradx.translations import resolve_lang

    try:
        return explainer.describe(exc, resolve_lang(lang))
    except Exception:  # noqa: BLE001 - describing must never turn into a second failure
        return None


def install(*, lang: str | None = None) -> None:
    """Add an excepthook that prints the explanation after the traceback of autograd errors."""
    from gradx.commands.explain.hooks import install_excepthook

    api_lang(lang)  # refuse a bad language now, not silently when an error happens

    install_excepthook(lang=lang)


def uninstall() -> None:
    """Remove the excepthook added by ``install()``."""
    from gradx.commands.explain.hooks import uninstall_excepthook

    uninstall_excepthook()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext gradx``: explain autograd errors under their traceback in IPython/Jupyter."""
    from gradx.commands.explain.hooks import register_ipython

    register_ipython(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext gradx``: stop explaining errors in IPython/Jupyter."""
    from gradx.commands.explain.hooks import unregister_ipython

    unregister_ipython(ipython)
