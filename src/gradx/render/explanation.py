"""Render explain-error results: rich text for people, JSON for tools. Never computes.

The explain core hands over frozen dataclasses (``gradx.commands.explain.model``); this module only lays
them out, in the language the core resolved (``Explanation.lang``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from io import StringIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from gradx.commands.explain.model import Catalog, Explanation, Finding, SourceLine

SCHEMA = "gradx.explain-error/1"
CATALOG_SCHEMA = "gradx.explain-catalog/1"

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "error": "error",
        "warning": "warning",
        "where": "Where",
        "forward": "Forward: {note}",
        "forward_note": "the forward operation whose backward failed, found by anomaly detection",
        "what": "What happened",
        "causes": "Possible causes",
        "cause": "Cause",
        "applies": "this is what your code does",
        "fix": "How to fix",
        "before": "Before:",
        "after": "After:",
        "docs": "Docs:",
        "hidden": "… {n} library frame(s) hidden",
        "seen": "(seen {n} times)",
        "details": "Details",
        "not_recognised": "gradx did not recognise an autograd error or warning in this input.",
        "found_lines": "Error lines found, which are not autograd errors gradx knows:",
        "also_found": "Also found, not explained:",
        "advice": "General advice",
        "try_run": "Let gradx run your script and catch the error itself: gradx explain-error --run script.py",
        "run_clean": "{script} ran to the end without an autograd error or warning (exit status {status}).",
        "run_crashed": "{script} stopped without a Python exception (exit status {status}).",
        "run_killed": "{script} was killed by {signal}, without a Python exception.",
        "run_other": "{script} raised an error that is not an autograd error gradx knows:",
        "run_anomaly": "The script was run again with torch.autograd.set_detect_anomaly(True).",
        "output_tail": "Last lines it printed on stderr:",
        "printed": "{script} printed:",
        "printed_omitted": "  … {n} earlier line(s) not shown",
        "accumulation": "But gradients accumulate: backward() at line {second} adds to the .grad that backward() at line {first} left, because nothing zeroes it between them. Each .grad is then the sum of both gradients.",
        "accumulation_loop": "But gradients accumulate: backward() at line {second} runs in a loop that never zeroes .grad, so every iteration adds its gradient to the previous ones.",
        "accumulation_fix": "If you want each gradient on its own, zero it before the next backward(): x.grad.zero_() (or x.grad = None, or optimizer.zero_grad() in a training loop). Accumulating on purpose (several batches, one step) is fine.",
        "input-truncated": "Only the last 4 MiB of the input were read.",
        "summary": "In one line",
        "list_header": "{n} entries (gradx explain-error ID explains one)",
    },
    "zh": {
        "error": "错误",
        "warning": "警告",
        "where": "位置",
        "forward": "前向：{note}",
        "forward_note": "反向失败的那个前向运算，由异常检测找到",
        "what": "发生了什么",
        "causes": "可能的原因",
        "cause": "原因",
        "applies": "你的代码正是这种情况",
        "fix": "如何修复",
        "before": "修改前：",
        "after": "修改后：",
        "docs": "文档：",
        "hidden": "… 已隐藏 {n} 个库函数帧",
        "seen": "(出现 {n} 次)",
        "details": "细节",
        "not_recognised": "gradx 没有在输入中识别出 autograd 错误或警告。",
        "found_lines": "找到的错误行（不是 gradx 认识的 autograd 错误）：",
        "also_found": "另外找到但未解释的：",
        "advice": "一般建议",
        "try_run": "让 gradx 运行你的脚本并自己捕获错误：gradx explain-error --run script.py",
        "run_clean": "{script} 运行结束，没有 autograd 错误或警告（退出状态 {status}）。",
        "run_crashed": "{script} 在没有 Python 异常的情况下停止了（退出状态 {status}）。",
        "run_killed": "{script} 被信号 {signal} 终止，没有 Python 异常。",
        "run_other": "{script} 抛出了一个 gradx 不认识的非 autograd 错误：",
        "run_anomaly": "脚本已在 torch.autograd.set_detect_anomaly(True) 下重新运行。",
        "output_tail": "它在 stderr 上打印的最后几行：",
        "printed": "{script} 的输出：",
        "printed_omitted": "  … 前面还有 {n} 行未显示",
        "accumulation": "但是梯度会累加：第 {second} 行的 backward() 把梯度加到第 {first} 行的 backward() 留下的 .grad 上，因为两者之间没有清零。于是每个 .grad 都是两次梯度之和。",
        "accumulation_loop": "但是梯度会累加：第 {second} 行的 backward() 在一个从不清零 .grad 的循环里，每次迭代都把梯度加到之前的梯度上。",
        "accumulation_fix": "如果想让每次的梯度各自独立，在下一次 backward() 之前清零：x.grad.zero_()（或 x.grad = None，训练循环中用 optimizer.zero_grad()）。有意累加（多个批次、一次更新）则没有问题。",
        "input-truncated": "只读取了输入的最后 4 MiB。",
        "summary": "一句话",
        "list_header": "共 {n} 条（gradx explain-error ID 查看其中一条）",
    },
}


def _stdout_console() -> Console:
    """A console on the current stdout that never wraps on its own: this module wraps
    paragraphs itself (``wrap_cells``), so that lines carry no trailing spaces and code and
    URLs are never broken."""
    from gradx.render.console import stdout_console

    return stdout_console(soft_wrap=True)


def labels(lang: str) -> dict[str, str]:
    """The interface strings of one language (English for unknown languages)."""
    return _LABELS.get(lang, _LABELS["en"])


# -- people -----------------------------------------------------------------------------------


def print_explanation(explanation: Explanation, console: Console | None = None) -> None:
    """Print an explanation for a person reading a terminal."""
    console = console or _stdout_console()
    text = labels(explanation.lang)
    for note in explanation.notes:
        _print_wrapped(console, text.get(note, note), 0, "dim")
    run = explanation.run
    if run is not None and run.printed:
        console.print(_text(text["printed"].format(script=_display_path(run.script)), "bold"))
        if run.printed_omitted:
            console.print(_text(text["printed_omitted"].format(n=run.printed_omitted), "dim"))
        for line in run.printed:
            console.print(_text("  " + line), soft_wrap=True)
        console.print()
    if run is not None and run.anomaly_rerun and explanation.findings:
        _print_wrapped(console, text["run_anomaly"], 0, "dim")
    for index, finding in enumerate(explanation.findings):
        if index:
            console.print(_text("─" * 60, "dim"))
        _print_finding(console, finding, text)
    if explanation.findings and explanation.unrecognised:
        console.print()
        console.print(_text(text["also_found"], "bold"))
        for line in explanation.unrecognised:
            console.print(_text("  " + line))
    if not explanation.findings:
        _print_unrecognised(console, explanation, text)


def _print_finding(console: Console, finding: Finding, text: dict[str, str]) -> None:
    from rich.text import Text

    kind_style = "alert" if finding.kind == "error" else "warning"
    header = Text()
    header.append(text[finding.kind], style=kind_style)
    header.append("  ")
    header.append(finding.entry_id, style="id")
    header.append("  ")
    header.append(finding.title, style="bold")
    if finding.count > 1:
        header.append("  " + text["seen"].format(n=finding.count), style="dim")
    console.print(header)
    _print_wrapped(console, finding.message, 2, "dim")
    if finding.where is not None or finding.frames:
        console.print()
        console.print(_text(text["where"], "bold"))
        for line in _frame_lines(finding, text):
            console.print(line)
    if finding.forward is not None:
        console.print()
        console.print(_text(text["forward"].format(note=text["forward_note"]), "bold"))
        for line in _source_lines(finding.forward):
            console.print(line)
    console.print()
    console.print(_text(text["what"], "bold"))
    _print_wrapped(console, finding.explanation, 2)
    if finding.causes:
        console.print()
        applying = [cause for cause in finding.causes if cause.applies]
        console.print(_text(text["cause"] if len(applying) == 1 else text["causes"], "bold"))
        for cause in finding.causes:
            mark = "✔ " if cause.applies else "• "
            _print_bullet(console, mark, cause.text, 2, "bold" if cause.applies else "")
            if cause.applies:
                if cause.evidence is not None:
                    for source in _source_lines(cause.evidence, indent=6):
                        console.print(source)
                else:
                    console.print(_text("      " + text["applies"], "good"))
    console.print()
    console.print(_text(text["fix"], "bold"))
    _print_wrapped(console, finding.fix.text, 2)
    console.print()
    console.print(_text(f"  {text['before']}", "bad"))
    console.print(_code(finding.fix.before, 4), soft_wrap=True)
    console.print(_text(f"  {text['after']}", "good"))
    console.print(_code(finding.fix.after, 4), soft_wrap=True)
    console.print()
    console.print(_text(text["docs"], "bold"))
    for url in finding.docs:
        console.print(_text("  " + url, "link"), soft_wrap=True)


def _print_unrecognised(console: Console, explanation: Explanation, text: dict[str, str]) -> None:
    run = explanation.run
    if run is not None:
        name = _display_path(run.script)
        if run.outcome == "error":
            _print_wrapped(console, text["run_other"].format(script=name), 0, "warning")
            console.print(_text("  " + run.exception))
            if run.where is not None:
                for line in _source_lines(run.where):
                    console.print(line)
        elif run.outcome == "finished":
            message = text["run_clean"].format(script=name, status=run.exit_status)
            _print_wrapped(console, message, 0, "warning")
            if run.accumulation is not None:
                first, second = run.accumulation
                key = "accumulation_loop" if first == second else "accumulation"
                console.print()
                _print_wrapped(console, text[key].format(first=first, second=second), 0, "caution")
                _print_wrapped(console, text["accumulation_fix"], 0)
        else:
            if run.killed_by is not None:
                message = text["run_killed"].format(script=name, signal=run.killed_by)
            else:
                message = text["run_crashed"].format(script=name, status=run.exit_status)
            _print_wrapped(console, message, 0, "warning")
            if run.output_tail:
                console.print(_text(text["output_tail"], "bold"))
                for line in run.output_tail:
                    console.print(_text("  " + line, "dim"))
    else:
        _print_wrapped(console, text["not_recognised"], 0, "warning")
        if explanation.unrecognised:
            _print_wrapped(console, text["found_lines"], 0)
            for line in explanation.unrecognised:
                console.print(_text("  " + line))
    if explanation.advice:
        console.print()
        console.print(_text(text["advice"], "bold"))
    for advice in explanation.advice:
        _print_bullet(console, "• ", advice, 2)
    if run is None:
        console.print()
        _print_wrapped(console, text["try_run"], 0, "hint")


def _frame_lines(finding: Finding, text: dict[str, str]) -> list:
    from rich.text import Text

    frames = list(finding.frames) or ([finding.where] if finding.where else [])
    lines: list[Text] = []
    hidden = 0
    shown_user = [f for f in frames if not f.library][-6:]
    for frame in frames:
        if frame.library or frame not in shown_user:
            hidden += 1
            continue
        if hidden:
            lines.append(_text("  " + text["hidden"].format(n=hidden), "dim"))
            hidden = 0
        lines.extend(_source_lines(frame))
    if hidden:
        lines.append(_text("  " + text["hidden"].format(n=hidden), "dim"))
    return lines


def _source_lines(frame: SourceLine, indent: int = 2) -> list:
    from rich.text import Text

    pad = " " * indent
    head = Text(pad)
    head.append(f"{_display_path(frame.file)}:{frame.line}", style="bold")
    if frame.function:
        head.append(f" in {frame.function}", style="dim")
    lines = [head]
    if frame.source:
        body = Text(pad + "  ")
        body.append(f"{frame.line} │ ", style="dim")
        body.append(frame.source, style="code")
        lines.append(body)
    return lines


def _display_path(file: str) -> str:
    """Paths under the current directory are shown relative to it (shorter, clickable)."""
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return file
    return relative if not relative.startswith("..") else file


def _text(content: str, style: str = ""):  # noqa: ANN202 - rich.text.Text
    from rich.text import Text

    return Text(content, style=style)


def _print_wrapped(console: Console, content: str, indent: int, style: str = "") -> None:
    """Print a paragraph wrapped to the console width, indented, without trailing spaces
    (rich's own wrapping, so that Chinese text is measured in terminal cells)."""
    _print_bullet(console, "", content, indent, style)


def _print_bullet(console: Console, mark: str, content: str, indent: int, style: str = "") -> None:
    """A paragraph after ``mark``; wrapped lines align under the text, not under the mark."""
    from rich.text import Text

    width = max(20, console.width - indent - len(mark))
    mark_style = "confirmed" if mark.startswith("✔") else ""
    for number, line in enumerate(wrap_cells(content, width)):
        lead = Text(" " * indent) + Text(mark if number == 0 else " " * len(mark), style=mark_style)
        console.print(lead + Text(line, style=style), soft_wrap=True)


_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKENS = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+|\\s+")
_NO_LINE_START = set(
    ",.;:!?)]}\uff0c\u3002\uff1a\uff1b\uff01\uff1f\uff09\u3001\u300d\u300f\u3011\u300b"
)


_NO_LINE_END = set("(\uff08\u300c\u300e\u3010\u300a\u201c")


def wrap_cells(text: str, width: int) -> list[str]:
    """Greedy wrapping measured in terminal cells; Chinese may break between any two characters
    (but not before closing punctuation), other text only at spaces."""
    from rich.cells import cell_len

    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if token.isspace():
            if line:
                line += " "
            continue
        if line and cell_len(line + token) > width and token[0] not in _NO_LINE_START:
            carried = ""
            if line[-1] in _NO_LINE_END and len(line) > 1:  # keep "（" with what it opens
                line, carried = line[:-1], line[-1]
            lines.append(line.rstrip())
            line = carried
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _code(code: str, indent: int):  # noqa: ANN202 - rich renderable
    from rich.text import Text

    block = Text()
    for number, line in enumerate(code.splitlines()):
        if number:
            block.append("\n")
        block.append(" " * indent + line if line else "", style="code")
    return block


# -- tools ------------------------------------------------------------------------------------


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """The explanation as a JSON-ready dict (schema ``gradx.explain-error/1``, see docs)."""
    run = explanation.run
    return {
        "schema": SCHEMA,
        "recognised": explanation.recognised,
        "lang": explanation.lang,
        "source": explanation.source,
        "findings": [_finding_json(f) for f in explanation.findings],
        "unrecognised": list(explanation.unrecognised),
        "advice": list(explanation.advice),
        "notes": list(explanation.notes),
        "run": None
        if run is None
        else {
            "script": run.script,
            "args": list(run.args),
            "outcome": run.outcome,
            "exit_status": run.exit_status,
            "killed_by": run.killed_by,
            "exception": run.exception or None,
            "where": _line_json(run.where),
            "anomaly_rerun": run.anomaly_rerun,
            "printed": list(run.printed),
            "gradient_accumulation": (
                None
                if run.accumulation is None
                else {"first_line": run.accumulation[0], "second_line": run.accumulation[1]}
            ),
        },
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.entry_id,
        "title": finding.title,
        "kind": finding.kind,
        "exception": finding.exception,
        "message": finding.message,
        "count": finding.count,
        "details": dict(finding.details),
        "explanation": finding.explanation,
        "causes": [
            {
                "id": cause.id,
                "text": cause.text,
                "applies": cause.applies,
                "evidence": _line_json(cause.evidence),
            }
            for cause in finding.causes
        ],
        "fix": {
            "summary": finding.fix.summary,
            "text": finding.fix.text,
            "before": finding.fix.before,
            "after": finding.fix.after,
        },
        "docs": list(finding.docs),
        "where": _line_json(finding.where),
        "forward": _line_json(finding.forward),
        "frames": [_line_json(frame) for frame in finding.frames],
    }


def _line_json(line: SourceLine | None) -> dict[str, Any] | None:
    if line is None:
        return None
    return {
        "file": line.file,
        "line": line.line,
        "function": line.function,
        "source": line.source,
        "library": line.library,
    }


def print_json(document: dict[str, Any]) -> None:
    """Write one JSON document to stdout (UTF-8 text kept readable, not escaped)."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


# -- the catalog ------------------------------------------------------------------------------


def print_catalog(catalog: Catalog, lang: str, console: Console | None = None) -> None:
    """``--list``: every entry id, its kind and its title, one entry per line."""
    from rich.text import Text

    console = console or _stdout_console()
    text = labels(lang)
    id_width = max(len(entry.id) for entry in catalog.entries)
    kind_width = max(len(text[kind]) for kind in ("error", "warning"))
    for entry in catalog.entries:
        line = Text(entry.id.ljust(id_width + 2), style="id")
        line.append(text[entry.kind].ljust(kind_width + 2))
        line.append(entry.title.get(lang))
        console.print(line, soft_wrap=True)
    console.print(_text(text["list_header"].format(n=len(catalog.entries)), "dim"), soft_wrap=True)


def catalog_json(catalog: Catalog, lang: str) -> dict[str, Any]:
    """``--list --json``: the catalog index as a JSON-ready dict."""
    return {
        "schema": CATALOG_SCHEMA,
        "lang": lang,
        "entries": [
            {"id": e.id, "kind": e.kind, "exception": e.exception, "title": e.title.get(lang)}
            for e in catalog.entries
        ],
    }


def plain_text(explanation: Explanation, width: int = 100) -> str:
    """The explanation as plain text (no colours), e.g. to append to a traceback."""
    from rich.console import Console

    from gradx.render.console import theme

    buffer = StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        highlight=False,
        soft_wrap=True,
        theme=theme(),
    )
    print_explanation(explanation, console)
    return buffer.getvalue()


def emit(result: Explanation | Catalog, *, lang: str, json_out: bool) -> None:
    """Print an Explanation (or the catalog for ``--list``), as text or JSON."""
    from gradx.commands.explain.model import Catalog

    if isinstance(result, Catalog):
        if json_out:
            print_json(catalog_json(result, lang))
        else:
            print_catalog(result, lang)
        return
    if json_out:
        print_json(explanation_json(result))
    else:
        print_explanation(result)
