"""Which language to explain in: ``--lang``, else the locale (LC_ALL, LC_MESSAGES, LANG)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from gradx.errors import ExitCode, GradxError

LANGUAGES = ("en", "zh")


def resolve_lang(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``"en"`` or ``"zh"``: the option if given (``zh_CN``, ``zh-Hans`` count as zh), else the
    first of LC_ALL, LC_MESSAGES, LANG that is set (as POSIX orders them), else English."""
    if option is not None:
        value = option.strip().lower()
        for lang in LANGUAGES:
            if value == lang or value.startswith((lang + "_", lang + "-", lang + ".")):
                return lang
        raise GradxError(f"unknown language {option!r}: choose en or zh", exit_code=ExitCode.USAGE)
    environ = os.environ if environ is None else environ
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
