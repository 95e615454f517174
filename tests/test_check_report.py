"""Rendering of check reports: text for each verdict, the JSON document, the progress bar."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

from rich.console import Console

from gradx.commands.check.model import CheckReport, ErrorInfo, Settings, TargetResult, Verdict
from gradx.commands.check.session import check_target
from gradx.render.check_report import CheckProgress, plain_text, report_dict
from gradx.user_script.spec import InputSpec
from gradx.user_script.targets import find_targets, load_module

SCRIPTS = Path(__file__).parent / "check_scripts"


@cache
def report_of(script: str) -> CheckReport:
    found = find_targets(load_module(SCRIPTS / script))
    results = tuple(check_target(t, InputSpec(), Settings()) for t in found.targets)
    return CheckReport(results, Settings(), file=script, skipped=found.skipped, seconds=1.25)


def test_json_document_matches_the_schema_in_the_docs():
    doc = json.loads(json.dumps(report_dict(report_of("wrong_functions.py")), allow_nan=False))
    assert set(doc) == {"schema", "file", "settings", "targets", "skipped", "summary"}
    assert doc["summary"] == {
        "verdict": "fail", "total": 6, "pass": 0, "nondifferentiable": 0, "fail": 6,
        "error": 0, "timeout": 0, "exit_code": 1, "seconds": 1.25,
    }  # fmt: skip
    target = doc["targets"][0]
    assert set(target) == {
        "name", "kind", "line", "verdict", "inputs", "entries_checked", "worst", "checks",
        "error", "timeout", "seconds", "values",
    }  # fmt: skip
    check = target["checks"][0]
    assert set(check) == {
        "order", "sample", "verdict", "method", "inputs", "at", "output_shape",
        "entries_checked", "mismatch_count", "cause", "worst", "mismatches", "kink_count",
        "kinks", "evaluations", "localisation_evaluations", "vectorised", "fallback_reason",
        "notes", "against", "budgets",
    }  # fmt: skip
    assert check["against"] is None and check["budgets"] == []
    assert doc["settings"]["against"] is None and doc["settings"]["device"] == "cpu"
    assert check["cause"]["id"] == "sign" and check["at"] == {"x": check["at"]["x"]}


def test_nan_values_become_null_in_json():
    doc = report_dict(report_of("nan_grad.py"))
    entry = doc["targets"][0]["checks"][0]["mismatches"][0]
    assert entry["autograd"] is None and entry["numeric"] == 0.0
    json.dumps(doc, allow_nan=False)


def test_text_for_timeout_error_and_explained_error():
    settings = Settings(timeout=2.0)
    report = CheckReport(
        (
            TargetResult("spin", "function", 3, Verdict.TIMEOUT, timeout=2.0),
            TargetResult(
                "bad", "function", 9, Verdict.ERROR,
                error=ErrorInfo("RuntimeError", "boom", "s.py:10", "y.add_(1)", "A title", "A fix"),
            ),
        ),
        settings,
        file="s.py",
    )  # fmt: skip
    text = plain_text(report, width=80)
    assert "TIMEOUT   spin" in text
    assert (
        "  stopped after 2 s (an endless loop at these inputs?); raise --timeout if slow\n" in text
    )
    assert "RuntimeError: boom" in text
    assert "at s.py:10    y.add_(1)" in text
    assert "explained: A title" in text and "fix: A fix" in text
    assert "2 targets: 1 error, 1 timeout" in text


def test_failure_text_shows_where_and_why():
    text = plain_text(report_of("wrong_functions.py"))
    block = text[text.index("FAIL MissingFactor") :]
    assert "at x = " in block.splitlines()[1]
    assert "cause: constant factor: autograd = 0.333333 × numeric" in block
    assert "6 targets: 6 fail (1.2 s)" in text


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    quiet = io.StringIO()
    progress = CheckProgress(Console(file=quiet, force_terminal=False))
    progress.DELAY = 0
    with progress:
        progress(("start", 0, 2, "square"))
        progress(("done", 0, 2, None))
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    progress = CheckProgress(Console(file=shown, force_terminal=True, width=80))
    progress.DELAY = 0
    with progress:
        progress(("start", 0, 2, "square"))
        progress(("tick",))
    assert "checking square" in shown.getvalue()
