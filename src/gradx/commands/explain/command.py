"""``explain-error``'s entry: ``ExplainRequest.from_cli(...)`` checks the options, ``.run()``
reads the input they name (the TEXT argument, a catalog id, standard input or a script to run)
and returns an Explanation, or the Catalog for ``--list``.

Importing it is cheap (no torch). Rendering happens in ``gradx.render.explanation``.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from gradx.commands.explain.catalog import Catalog, load_catalog
from gradx.commands.explain.model import Explanation
from gradx.commands.explain.paste import MAX_INPUT_BYTES, decode_input
from gradx.errors import ExitCode, GradxError
from gradx.translations import resolve_lang

DEFAULT_TIMEOUT = 60.0
_CHUNK = 1024 * 1024
_OPTION_LIKE = re.compile(r"^--?[A-Za-z][\w-]*(?:=.*)?$")

USAGE_HINT = (
    'usage: gradx explain-error "RuntimeError: element 0 of tensors does not require grad ..."',
    "       python train.py 2>&1 | gradx explain-error",
    "       gradx explain-error --run train.py [ARGS...]",
    "       gradx explain-error backward-twice      (a catalog id; --list shows them all)",
)


@dataclass(frozen=True)
class ExplainOutput:
    """Where ``explain-error`` writes its report: output-only options, read by the renderer."""

    json: bool = False  # --json: one JSON document


@dataclass(frozen=True)
class ExplainRequest:
    """What the user asked ``explain-error`` to do, straight from the command line."""

    words: tuple[str, ...]  # TEXT and any further arguments, in order
    script: Path | None
    timeout: float
    anomaly: bool
    rerun: bool
    list_catalog: bool
    lang: str  # the explanation is written in it (the renderer's labels too)
    output: ExplainOutput = field(default_factory=ExplainOutput)

    @classmethod
    def from_cli(
        cls,
        *,
        text: str | None,
        extra: tuple[str, ...] = (),
        script: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        anomaly: bool = False,
        rerun: bool = True,
        list_catalog: bool = False,
        lang: str | None = None,
        json_out: bool = False,
    ) -> ExplainRequest:
        """Validate the options (GradxError, exit 2, for contradictions) into a request."""
        words = tuple(w for w in (text, *extra) if w is not None)
        if script is None:
            unknown = next((w for w in words if _OPTION_LIKE.match(w)), None)
            if unknown is not None:
                raise GradxError(
                    f"no such option: {unknown.split('=')[0]} (see gradx explain-error --help)"
                )
            if anomaly:
                raise GradxError("--anomaly only makes sense with --run SCRIPT")
        if list_catalog and (words or script is not None):
            raise GradxError("--list takes no TEXT and no --run")
        return cls(
            words=words,
            script=script,
            timeout=timeout,
            anomaly=anomaly,
            rerun=rerun,
            list_catalog=list_catalog,
            lang=resolve_lang(lang),
            output=ExplainOutput(json=json_out),
        )

    def run(
        self, on_event: Callable[[tuple[Any, ...]], None] | None = None
    ) -> Explanation | Catalog:
        """The Explanation the request asks for, or the Catalog for ``--list``.

        ``on_event`` is accepted for the shape all four commands share; explaining sends no
        events (a ``--run`` script's own output goes to the terminal as it comes).
        """
        from gradx.commands.explain import explainer

        if self.list_catalog:
            return load_catalog()
        if self.script is not None:
            return explainer.explain_script(
                self.script,
                self.words,
                self.lang,
                timeout=self.timeout,
                anomaly=self.anomaly,
                rerun=self.rerun,
            )
        text = " ".join(self.words)
        if not self.words or text == "-":
            data, truncated = read_stdin()
            return explainer.explain_text(decode_input(data), self.lang, truncated=truncated)
        if explainer.lookup_entry(text) is not None or (
            explainer.looks_like_id(text) and not _matches_anything(text)
        ):
            return explainer.explain_entry(text, self.lang)
        return explainer.explain_text(text, self.lang)


def _matches_anything(text: str) -> bool:
    from gradx.commands.explain.explainer import explain_text

    try:
        return explain_text(text, "en").recognised
    except GradxError:
        return False


def read_stdin(stdin: BinaryIO | None = None) -> tuple[bytes, bool]:
    """All of standard input, keeping only its last 4 MiB; ``(data, truncated)``.

    When standard input is a terminal, waiting would look like a hang: a GradxError with a
    usage hint is raised instead.
    """
    if stdin is None:
        stream = sys.stdin
        if stream is None or _is_terminal(stream):
            raise GradxError(
                "nothing to explain: give the error text, pipe it in, or use --run SCRIPT",
                exit_code=ExitCode.USAGE,
                detail=USAGE_HINT,
            )
        reader: _Reader = getattr(stream, "buffer", None) or _TextAsBytes(stream)
    else:
        reader = stdin
    chunks: deque[bytes] = deque()
    kept = 0
    truncated = False
    while True:
        chunk = reader.read(_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        kept += len(chunk)
        while kept - len(chunks[0]) >= MAX_INPUT_BYTES:
            kept -= len(chunks.popleft())
            truncated = True
    data = b"".join(chunks)
    if len(data) > MAX_INPUT_BYTES:
        data = data[-MAX_INPUT_BYTES:]
        truncated = True
    return data, truncated


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


class _Reader(Protocol):
    """What read_stdin reads from: ``read(n) -> bytes``."""

    def read(self, size: int, /) -> bytes: ...


class _TextAsBytes:
    """Adapts a text stream without ``.buffer`` (some test runners) to ``read(n) -> bytes``."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def read(self, size: int) -> bytes:
        return self._stream.read(size).encode("utf-8", errors="replace")  # type: ignore[attr-defined]
