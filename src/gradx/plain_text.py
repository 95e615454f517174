"""How a result object prints as plain text, without the result type importing its renderer.

Result types (``CheckReport``, ``Explanation``) call ``plain_text(self)`` in ``__str__``; the
public API layer (``gradx/__init__.py``) registers, per type, a writer that imports the renderer
when it is first used. So models stay below renderers and ``import gradx`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_WRITERS: dict[str, Callable[[Any], str]] = {}


def _name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def register(qualified_name: str, writer: Callable[[Any], str]) -> None:
    """Make ``writer(result)`` the plain text of results of the type ``module.QualName``."""
    _WRITERS[qualified_name] = writer


def plain_text(result: object) -> str:
    """``result`` as plain text through its registered writer (its repr when none is)."""
    writer = _WRITERS.get(_name(type(result)))
    return writer(result) if writer is not None else repr(result)
