"""gradx.text: the one place for short numbers, superscripts, ordinals and exception lines."""

from __future__ import annotations

import math

import pytest

from gradx.text import exception_line, first_line, fmt_value, ordinal, short_number, superscript


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "n/a"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (-0.0, "0"),
        (1e308, "1e+308"),
        (0.8913089, "0.891309"),
        (2017380.4, "2.01738e+06"),
    ],
)
def test_short_number(value, text):
    assert short_number(value) == text


def test_superscript_raises_digits_and_minus_signs():
    assert superscript(2) == "²"
    assert superscript(3) == "³"  # plots used to print ^3
    assert superscript(10) == "¹⁰"
    assert superscript(-1) == "⁻¹"
    assert superscript("12") == "¹²"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (101, "101st"),
        (111, "111th"),
    ],
)
def test_ordinal(n, text):
    assert ordinal(n) == text


def test_first_line_of_a_message():
    assert first_line(RuntimeError("\n  one went wrong  \nsecond line")) == "one went wrong"
    assert first_line(ValueError()) == ""
    assert first_line("x" * 10, limit=5) == "xxxx…"


def test_exception_line_names_the_type():
    assert exception_line(KeyError("k")) == "KeyError: 'k'"
    assert exception_line(RuntimeError("a\nb")) == "RuntimeError: a"
    assert exception_line(ZeroDivisionError()) == "ZeroDivisionError"


def test_numbers_for_tables_have_a_short_exponent_and_no_negative_zero():
    assert fmt_value(1e308, 6) == "1e308"
    assert fmt_value(-2.95224e-306, 6) == "-2.95224e-306"
    assert fmt_value(-0.0) == "0"
    assert fmt_value(None) == "n/a"
    assert fmt_value(1 / 3, 3) == "0.333"
