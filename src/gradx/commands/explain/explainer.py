"""Build Explanations: input (text, catalog id, exception, script) → match → diagnose → dataclasses.

Nothing here prints; ``gradx.render.explanation`` turns the result into text or JSON.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from difflib import get_close_matches
from pathlib import Path

from gradx.child_process import signal_text
from gradx.commands.explain.catalog import Catalog, CatalogEntry, load_catalog
from gradx.commands.explain.diagnose import diagnose, read_user_source
from gradx.commands.explain.matcher import Hit, ascii_lower, find_hits
from gradx.commands.explain.model import Cause, Explanation, Finding, Fix, RunSummary, SourceLine
from gradx.commands.explain.paste import (
    MAX_INPUT_BYTES,
    Paste,
    is_library_path,
    looks_binary,
    parse_frames,
    parse_paste,
    user_frame,
)
from gradx.errors import ExitCode, GradxError
from gradx.text import first_line

_MAX_MESSAGE = 2000
_MAX_UNRECOGNISED = 10
_ANOMALY_TRACE = "anomaly-forward-trace"
_KEBAB = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)+$")
_NAN = re.compile(r"(?<![\w.])nan(?![\w.])", re.IGNORECASE)


@dataclass(frozen=True)
class _Occurrence:
    """One recognised message before it is turned into a Finding."""

    entry: CatalogEntry
    message: str
    groups: tuple[tuple[str, str], ...] = ()
    count: int = 1
    frames: tuple[SourceLine, ...] = ()
    where: SourceLine | None = None
    forward: SourceLine | None = None
    position: int = 0
    runtime: Mapping[str, Mapping] | None = None


# -- public entry points ----------------------------------------------------------------------


def explain_text(text: str, lang: str, *, truncated: bool = False) -> Explanation:
    """Explain every autograd error or warning found in pasted text (a message, a traceback, a log).

    Raises GradxError (exit 2) for empty input, or for binary data in which nothing is recognised.
    """
    catalog = load_catalog()
    if not text.strip():
        raise GradxError("no text to explain: the input is empty", exit_code=ExitCode.USAGE)
    binary = looks_binary(text)
    paste = parse_paste(text.replace("\x00", ""))
    occurrences, recognised_lines = _from_paste(paste, catalog)
    if binary and not occurrences:
        raise GradxError(
            "the input looks like binary data, not an error message",
            detail=(
                "pipe the text output of your program: python train.py 2>&1 | gradx explain-error",
            ),
        )
    keywords = {p.keyword for o in occurrences for p in o.entry.patterns if p.keyword}
    unrecognised = _unrecognised(paste, recognised_lines, keywords)
    notes = ("input-truncated",) if truncated else ()
    return _explanation(
        occurrences,
        catalog,
        lang,
        source="text",
        unrecognised=unrecognised,
        notes=notes,
        traceback="Traceback (most recent call last)" in text or 'File "' in text,
    )


def lookup_entry(text: str) -> CatalogEntry | None:
    """The catalog entry whose id is ``text`` (kebab or snake case), else None."""
    return load_catalog().get(text) if text and len(text) < 100 else None


def looks_like_id(text: str) -> bool:
    """True for a single kebab-case or snake_case word such as ``backward-twice``."""
    return bool(_KEBAB.match(text.strip().lower()))


def explain_entry(entry_id: str, lang: str) -> Explanation:
    """Explain a catalog entry directly; unknown ids are a GradxError with suggestions."""
    catalog = load_catalog()
    entry = catalog.get(entry_id)
    if entry is None:
        wanted = entry_id.strip().lower().replace("_", "-")
        named = get_close_matches(wanted, catalog.names, n=3, cutoff=0.5)
        close = list(dict.fromkeys(e.id for n in named if (e := catalog.get(n))))[:3]
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "gradx explain-error --list shows every id"
        )
        raise GradxError(f"unknown catalog id {entry_id.strip()!r}: {hint}", detail=())
    occurrence = _Occurrence(entry=entry, message=_clean(entry.examples[0]))
    return _explanation([occurrence], catalog, lang, source="id")


def explain_exception(
    exc: BaseException, lang: str, *, diagnose_source: bool = True
) -> Explanation:
    """Explain an exception object (its chain included), pointing at the user's frame."""
    catalog = load_catalog()
    frames = _frames_of_traceback(exc)
    where = user_frame(frames)
    occurrences: list[_Occurrence] = []
    chain = _exception_chain(exc)
    context = where.source if where else ""
    for position, link in enumerate(chain):
        text = f"{type(link).__name__}: {_safe_str(link)}"
        for hit in _hits_in(text, catalog, context=context):
            occurrences.append(_occurrence(hit, position=position, frames=frames, where=where))
        if occurrences:
            break
    if not diagnose_source:
        occurrences = [replace(o, where=None) for o in occurrences]
    unrecognised = () if occurrences else (_first_line(f"{type(exc).__name__}: {_safe_str(exc)}"),)
    return _explanation(occurrences, catalog, lang, source="exception", unrecognised=unrecognised)


def explain_warning(
    message: str, category: str, lang: str, where: SourceLine | None = None
) -> Explanation:
    """Explain one warning (its message and category name)."""
    catalog = load_catalog()
    text = f"{category}: {message}"
    occurrences = [
        _occurrence(hit, position=0, frames=(), where=where)
        for hit in _hits_in(text, catalog, context=where.source if where else "")
    ]
    return _explanation(occurrences, catalog, lang, source="exception")


def explain_script(
    script: Path,
    args: tuple[str, ...],
    lang: str,
    *,
    timeout: float,
    anomaly: bool = False,
    rerun: bool = True,
) -> Explanation:
    """Run a script (``--run``) and explain the autograd error or warnings it produced."""
    from gradx.commands.explain.runner import check_script, run_script

    if not timeout > 0:
        raise GradxError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    check_script(script)
    source = _checked_source(script)
    catalog = load_catalog()
    run = run_script(script, args, timeout=timeout, anomaly=anomaly)
    occurrences = _from_run(run, catalog)
    if run.timed_out:
        seen = sorted({o.entry.id for o in occurrences})
        warned = f"; autograd warnings seen before: {', '.join(seen)}" if seen else ""
        raise GradxError(
            f"{script} did not finish within {timeout:g} s (waiting for input or looping "
            f"forever?) and was stopped; raise the limit with --timeout SECONDS{warned}"
        )
    anomaly_rerun = anomaly
    primary = _primary(occurrences)
    wants_rerun = primary is not None and primary.entry.anomaly_rerun and primary.forward is None
    nan_suspected = (
        primary is None
        and run.exception is None
        and bool(_NAN.search(run.stdout_tail + run.stderr_tail))
    )
    if rerun and not anomaly and (wants_rerun or nan_suspected):
        second = run_script(script, args, timeout=timeout, anomaly=True)
        anomaly_rerun = True
        if not second.timed_out:
            again = _from_run(second, catalog)
            if primary is None:
                occurrences = again
            else:
                forward = next((o.forward for o in again if o.forward is not None), None)
                occurrences = [
                    replace(o, forward=forward) if o is primary and forward is not None else o
                    for o in occurrences
                ]
    exception = run.exception
    printed = run.stdout_tail.splitlines()
    accumulation = None
    if not occurrences and exception is None and run.exit_code is not None:
        from gradx.commands.explain.pitfalls import gradient_accumulation

        found = gradient_accumulation(source)
        accumulation = (found.first, found.second) if found is not None else None
    summary = RunSummary(
        script=str(script),
        args=args,
        outcome=_outcome(run),
        exit_status=run.returncode,
        exception=_first_line(f"{exception['type']}: {exception['message']}") if exception else "",
        where=user_frame(_frames_from_events(exception.get("frames", []))) if exception else None,
        anomaly_rerun=anomaly_rerun,
        output_tail=tuple(run.stderr_tail.splitlines()[-15:]) if not occurrences else (),
        printed=tuple(printed[-_PRINTED_LINES:]),
        printed_omitted=max(0, len(printed) - _PRINTED_LINES),
        accumulation=accumulation,
        killed_by=signal_text(-run.returncode) if run.returncode and run.returncode < 0 else None,
    )
    unrecognised: tuple[str, ...] = ()
    if exception and not any(o.position == 0 for o in occurrences):
        unrecognised = (summary.exception,)
    return _explanation(
        occurrences, catalog, lang, source="run", unrecognised=unrecognised, run=summary
    )


_PRINTED_LINES = 20  # of the script's own output, shown before the explanation


def _checked_source(script: Path) -> str:
    """The script's text; a syntax error is unusable input (exit 2), as under gradx check."""
    from gradx.user_script.targets import syntax_error

    try:
        raw = script.read_bytes()
    except OSError as exc:
        raise GradxError(f"cannot read {script}: {exc.strerror or exc}") from None
    try:
        compile(raw, str(script), "exec", dont_inherit=True)  # compiled only, never run here
    except SyntaxError as exc:
        raise syntax_error(script, exc) from None
    except ValueError as exc:  # null bytes
        raise GradxError(f"{script.name} is not a Python source file: {exc}") from None
    return raw.decode("utf-8", errors="replace")


def _outcome(run) -> str:  # noqa: ANN001 - runner.ScriptRun
    if run.exception is not None:
        return "error"
    return "finished" if run.exit_code is not None else "crashed"


def describe(exc: BaseException, lang: str) -> Explanation | None:
    """The explanation of an exception if it is a known autograd error, else None (no diagnosis)."""
    explanation = explain_exception(exc, lang, diagnose_source=False)
    return explanation if explanation.recognised else None


# -- from each kind of input to occurrences ---------------------------------------------------


def _from_paste(paste: Paste, catalog: Catalog) -> tuple[list[_Occurrence], set[int]]:
    """Occurrences found in a paste, and the indexes of the lines they cover."""
    occurrences: list[_Occurrence] = []
    covered: set[int] = set()
    for hit in find_hits(paste, catalog):
        line = paste.line_at(hit.start)
        covered.update((line, paste.line_at(max(hit.start, hit.end - 1))))
        error = next((e for e in paste.errors if e.line <= line <= e.end), None)
        frames = _frames_before(paste, line)
        forward = None
        if hit.entry.id == _ANOMALY_TRACE:
            forward = user_frame(paste.frames_following(line))
        occurrences.append(
            _Occurrence(
                entry=hit.entry,
                message=_clean(error.text if error is not None else hit.message),
                groups=hit.groups,
                count=hit.count,
                frames=frames,
                where=user_frame(frames),
                forward=forward,
                position=hit.start,
            )
        )
    return _merge(occurrences), covered


def _frames_before(paste: Paste, line: int) -> tuple[SourceLine, ...]:
    """Traceback frames printed between the previous error line and ``line``."""
    start = 0
    for error in paste.errors:
        if error.end < line:
            start = error.end + 1
        else:
            break
    return paste.frames_between(start, line)


def _from_run(run, catalog: Catalog) -> list[_Occurrence]:  # noqa: ANN001 - runner.ScriptRun
    occurrences: list[_Occurrence] = []
    exception = run.exception
    if exception is not None:
        frames = _frames_from_events(exception.get("frames", []))
        where = user_frame(frames)
        texts = [f"{exception.get('type', 'Exception')}: {exception.get('message', '')}"]
        texts += [f"{c.get('type')}: {c.get('message', '')}" for c in exception.get("chain", [])]
        for text in texts:
            hits = _hits_in(text, catalog, context=where.source if where else "")
            for hit in hits:
                occurrence = _occurrence(
                    hit, position=0, frames=frames, where=where, runtime=exception.get("locals")
                )
                occurrences.append(replace(occurrence, message=_clean(text)))
            if hits:
                break
    for index, warning in enumerate(run.warnings, start=1):
        frames = _frames_from_events(warning.get("frames", []))
        where = user_frame(frames)
        text = f"{warning.get('category', 'Warning')}: {warning.get('message', '')}"
        for hit in _hits_in(text, catalog, context=where.source if where else ""):
            hit = Hit(hit.entry, hit.start, hit.end, text, hit.groups, hit.count)
            forward = None
            if hit.entry.id == _ANOMALY_TRACE:
                forward = user_frame(parse_frames(str(warning.get("message", "")).splitlines()))
                forward = _with_source(forward)
            occurrences.append(
                _occurrence(hit, position=index, frames=frames, where=where, forward=forward)
            )
    return _merge(occurrences)


def _frames_from_events(frames: Iterable[Mapping]) -> tuple[SourceLine, ...]:
    result = []
    for frame in frames:
        try:
            result.append(
                SourceLine(
                    file=str(frame.get("file", "")),
                    line=int(frame.get("line", 0) or 0),
                    function=str(frame.get("function", "")),
                    source=str(frame.get("source", "")),
                    library=bool(frame.get("library", False)),
                )
            )
        except (TypeError, ValueError):
            continue
    return tuple(result)


def _frames_of_traceback(exc: BaseException) -> tuple[SourceLine, ...]:
    frames = []
    for summary in traceback.extract_tb(exc.__traceback__):
        frames.append(
            SourceLine(
                file=summary.filename,
                line=summary.lineno or 0,
                function=summary.name,
                source=(summary.line or "").strip(),
                library=_is_library_file(summary.filename),
            )
        )
    return tuple(frames)


def _is_library_file(file: str) -> bool:
    if file.startswith("<ipython-input") or file.startswith("<stdin>"):
        return False
    if os.path.abspath(file).startswith(os.path.dirname(os.path.abspath(__file__))):
        return True
    return is_library_path(file)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    link = exc.__cause__ or exc.__context__
    while link is not None and link not in chain and len(chain) < 6:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def _hits_in(text: str, catalog: Catalog, *, context: str = "") -> list[Hit]:
    prefix = f"{context}\n" if context else ""
    paste = parse_paste(prefix + text[: MAX_INPUT_BYTES // 4])
    offset = len(parse_paste(prefix).flat) if prefix else 0
    return [hit for hit in find_hits(paste, catalog) if hit.end > offset]


def _occurrence(
    hit: Hit,
    *,
    position: int,
    frames: tuple[SourceLine, ...],
    where: SourceLine | None,
    forward: SourceLine | None = None,
    runtime: Mapping | None = None,
) -> _Occurrence:
    return _Occurrence(
        entry=hit.entry,
        message=_clean(hit.message),
        groups=hit.groups,
        count=hit.count,
        frames=frames,
        where=where,
        forward=forward,
        position=position,
        runtime=runtime,
    )


def _merge(occurrences: list[_Occurrence]) -> list[_Occurrence]:
    """One occurrence per entry (the last one seen, counted), anomaly traces folded into errors."""
    by_entry: dict[str, _Occurrence] = {}
    first_seen: dict[str, int] = {}
    for occurrence in occurrences:
        key = occurrence.entry.id
        previous = by_entry.get(key)
        first_seen.setdefault(key, occurrence.position)
        count = occurrence.count + (previous.count if previous else 0)
        keep = occurrence
        if previous is not None and previous.where is not None and occurrence.where is None:
            keep = previous
        by_entry[key] = replace(keep, count=count)
    trace = by_entry.get(_ANOMALY_TRACE)
    errors = [o for o in by_entry.values() if o.entry.kind == "error"]
    if trace is not None and errors:
        target = min(errors, key=lambda o: first_seen[o.entry.id])
        if target.forward is None:
            by_entry[target.entry.id] = replace(target, forward=trace.forward)
        del by_entry[_ANOMALY_TRACE]
    ordered = sorted(
        by_entry.values(),
        key=lambda o: (o.entry.kind != "error", first_seen[o.entry.id]),
    )
    return ordered


def _primary(occurrences: list[_Occurrence]) -> _Occurrence | None:
    return occurrences[0] if occurrences else None


def _unrecognised(paste: Paste, covered: set[int], keywords: set[str]) -> tuple[str, ...]:
    """Error lines of the paste that no catalog entry recognised (first line of each, unique).

    Lines holding the keyword of a recognised entry are repeats of it (counted, not matched
    one by one in a long log) and are not listed.
    """
    lines: list[str] = []
    for error in reversed(paste.errors[-5000:]):  # the last ones matter: a log ends with its crash
        if len(lines) == _MAX_UNRECOGNISED:
            break
        if any(error.line <= line <= error.end for line in covered):
            continue
        if any(keyword in ascii_lower(error.text) for keyword in keywords):
            continue
        text = _first_line(error.text)
        if text not in lines:
            lines.append(text)
    return tuple(reversed(lines))


# -- occurrences to the public dataclasses ----------------------------------------------------


def _explanation(
    occurrences: list[_Occurrence],
    catalog: Catalog,
    lang: str,
    *,
    source: str,
    unrecognised: tuple[str, ...] = (),
    notes: tuple[str, ...] = (),
    run: RunSummary | None = None,
    traceback: bool | None = None,
) -> Explanation:
    findings = tuple(_finding(o, lang, occurrences) for o in occurrences)
    if traceback is None:
        # a script that ran to its end (or died of a signal) left no traceback to read
        traceback = run is None or run.outcome == "error"
    general = (*(catalog.traceback_advice if traceback else ()), *catalog.advice)
    specific = run is not None and run.accumulation is not None  # a pitfall was explained
    advice = () if findings or specific else tuple(text.get(lang) for text in general)
    return Explanation(
        findings=findings,
        lang=lang,
        source=source,
        unrecognised=unrecognised,
        advice=advice,
        notes=notes,
        run=run,
    )


def _finding(occurrence: _Occurrence, lang: str, everything: list[_Occurrence]) -> Finding:
    entry = occurrence.entry
    where = _with_source(occurrence.where)
    evidence = diagnose(
        entry.id, where=where, forward=occurrence.forward, runtime=occurrence.runtime
    )
    if entry.id == "gradcheck-jacobian-mismatch" and any(
        o.entry.id == "gradcheck-not-double" for o in everything
    ):
        evidence.setdefault("low-precision", None)
    causes = [
        Cause(
            id=cause.id,
            text=cause.text.get(lang),
            applies=cause.id in evidence,
            evidence=evidence.get(cause.id),
        )
        for cause in entry.causes
    ]
    causes.sort(key=lambda cause: not cause.applies)
    return Finding(
        entry_id=entry.id,
        title=entry.title.get(lang),
        kind=entry.kind,
        message=occurrence.message,
        explanation=entry.explanation.get(lang),
        causes=tuple(causes),
        fix=Fix(
            text=entry.fix.get(lang),
            summary=entry.summary.get(lang),
            before=entry.before,
            after=entry.after,
        ),
        docs=entry.docs,
        exception=entry.exception,
        details=occurrence.groups,
        count=occurrence.count,
        where=where,
        frames=occurrence.frames,
        forward=_with_source(occurrence.forward),
    )


def _with_source(line: SourceLine | None) -> SourceLine | None:
    """Fill in the source text of a frame from the file when the traceback did not print it."""
    if line is None or line.source or line.line <= 0:
        return line
    lines = (read_user_source(line.file) or "").splitlines()
    text = lines[line.line - 1].strip() if line.line <= len(lines) else ""
    return replace(line, source=text) if text else line


def _clean(message: str) -> str:
    message = re.sub(r"\s+", " ", message).strip()
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _first_line(text: str) -> str:
    return first_line(text, limit=300)


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - __str__ of an exception can fail
        return "<unprintable>"
