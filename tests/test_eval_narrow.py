"""On any terminal width a number in gradx eval's table is printed whole, never wrapped."""

from __future__ import annotations

import re

import pytest

SUMMARY = re.compile(r"^[\d,]+ points?: ")
NUMBER = re.compile(r"(?<![\w.])-?(?:\d[\d.]*(?:e[+-]?\d+)?|nan|inf)(?![\w.])")
EXAMPLES = [
    ["x**2*y + sin(y)", "--at", "x=1,y=2", "--order", "2"],
    ["sin(x)", "--at", "x=2*pi", "--at", "1e-300", "--at", "-123456.789"],
    ["abs(x) + relu(x)", "--at", "0", "--at", "1"],
    ["exp(x)*y - log(y)", "--range", "x=-700:-699", "--range", "y=1e-12:2", "--steps", "2"],
]


def table_numbers(text: str) -> set[str]:
    """The numbers in the table: below the formulas, above the notes and the summary."""
    body = []
    for line in text.splitlines():
        if line.startswith("notes") or SUMMARY.match(line):
            break
        if "=" in line or "left out at" in line:  # a formula or the caption
            continue
        body.append(line)
    return set(NUMBER.findall("\n".join(body)))


@pytest.mark.parametrize("args", EXAMPLES, ids=lambda a: a[0])
@pytest.mark.parametrize("width", [30, 40, 50, 60, 70, 80, 90])
def test_narrow_terminals_show_only_whole_numbers(run_cli, monkeypatch, args, width):
    monkeypatch.setenv("COLUMNS", "200")
    wide = run_cli("eval", *args).stdout
    monkeypatch.setenv("COLUMNS", str(width))
    narrow = run_cli("eval", *args).stdout
    assert max(len(line) for line in narrow.splitlines()) <= width
    shown = table_numbers(narrow)
    assert shown  # the table is there
    assert shown <= table_numbers(wide), (
        f"split numbers at {width} columns: {shown - table_numbers(wide)}"
    )


def test_a_too_narrow_table_says_which_columns_it_left_out(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out = run_cli("eval", "x**2*y + sin(y)", "--at", "x=1,y=2", "--order", "2").stdout
    assert "numeric, symbolic left out at 60 columns (--json has them)" in out
    header = next(line for line in out.splitlines() if "autograd" in line)
    assert header.split() == ["x", "y", "f", "derivative", "autograd", "error", "status"]
    assert "-0.909297" in out.split()


def test_very_narrow_terminals_get_one_line_per_value(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "36")
    out = run_cli("eval", "sin(x)", "--at", "x=2*pi").stdout
    lines = [line.split() for line in out.splitlines()]
    assert ["f", "-2.44929e-16"] in lines
    assert ["autograd", "1"] in lines and ["symbolic", "1"] in lines and ["status", "ok"] in lines
