"""The one grammar of --at (gradx.at_values): forms, errors, and property tests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.at_values import ALL, MAX_NESTING, merge_at, parse_at, parse_one_value
from gradx.errors import GradxError


def shapes_and_values(text, names=None):
    return [(v.name, v.shape, v.nested) for v in parse_at(text, names)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x=1.5", [("x", (), 1.5)]),
        ("x=-1", [("x", (), -1.0)]),
        ("x=-1e-3", [("x", (), -0.001)]),
        ("x=pi/4", [("x", (), math.pi / 4)]),
        ("x=2*pi", [("x", (), 2 * math.pi)]),
        ("x=1,y=2", [("x", (), 1.0), ("y", (), 2.0)]),
        ("x=0,1,2,3,y=4", [("x", (4,), (0.0, 1.0, 2.0, 3.0)), ("y", (), 4.0)]),
        ("x=[0,1,2,3]", [("x", (4,), (0.0, 1.0, 2.0, 3.0))]),
        ("a=[[1,2],[3,4]]", [("a", (2, 2), ((1.0, 2.0), (3.0, 4.0)))]),
        ("x=atan2(1,2),y=3", [("x", (), math.atan2(1, 2)), ("y", (), 3.0)]),
        (" x = 1 , y = [ 1 , 2 ] ", [("x", (), 1.0), ("y", (2,), (1.0, 2.0))]),
        ("1.5", [(ALL, (), 1.5)]),
        ("0,1,2", [(ALL, (3,), (0.0, 1.0, 2.0))]),
        ("[[1],[2]]", [(ALL, (2, 1), ((1.0,), (2.0,)))]),
        ("1,y=2", [(ALL, (), 1.0), ("y", (), 2.0)]),
    ],
)
def test_the_forms_of_the_grammar(text, expected):
    assert shapes_and_values(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x=[1,2", "'[' at character 3 is not closed"),
        ("x=[[1,2],[3]]", "ragged list '[[1,2],[3]]'"),
        ("x=[1,[2]]", "ragged list"),
        ("x=", "no value after 'x='"),
        ("x=,y=1", "no value after 'x='"),
        ("x=1,,2", "a value is missing"),
        ("x=1,", "a value is missing after the last ','"),
        ("x=[]", "an empty list has no values"),
        ("x=[1,]", "a value is missing in the list"),
        ("x=1,y=2,x=3", "x is given twice"),
        ("x=[1,2],3", "x: give one list in brackets, or numbers separated by commas, not both"),
        ("2y=3", "'2y' is not a name"),
        ("=3", "'=' without a name"),
        ("x=1]", "a ']' without its '['"),
        ("x=[1]2", "'2' after the list '[1]'"),
        ("x=nan", "'nan' is not a finite number"),
        ("x=1e400", "not a finite number"),
        ("x=y", "must be a number or a constant expression"),
        ("x=foo(", "'(' was never closed"),
        ("[" * (MAX_NESTING + 1) + "1" + "]" * (MAX_NESTING + 1), "nested deeper than 8"),
        ("", "--at is empty"),
    ],
)
def test_each_mistake_is_one_line_that_names_the_piece(text, says):
    with pytest.raises(GradxError) as caught:
        parse_at(text)
    assert says in caught.value.message
    assert "\n" not in caught.value.message
    if text:
        assert caught.value.message.startswith(f"--at {text!r}")


def test_known_names_are_the_only_names():
    assert shapes_and_values("x=1", ["x", "y"]) == [("x", (), 1.0)]
    with pytest.raises(GradxError, match=r"'z' is not a variable here \(the variables: x, y\)"):
        parse_at("x=1,z=2", ["x", "y"])


def test_merged_at_refuses_a_name_twice_across_options():
    merged = merge_at(["x=1", "y=[1,2]"])
    assert [(v.name, v.shape) for v in merged] == [("x", ()), ("y", (2,))]
    with pytest.raises(GradxError, match="gives x twice"):
        merge_at(["x=1", "x=2"])
    with pytest.raises(GradxError, match="gives a bare value twice"):
        merge_at(["1", "2"])


def test_a_lone_value_has_no_name():
    assert parse_one_value("[[1,0],[0,1]]", "--gradient").shape == (2, 2)
    with pytest.raises(GradxError, match="without a name"):
        parse_one_value("x=1", "--gradient")


def test_huge_and_deep_input_is_refused_cleanly():
    with pytest.raises(GradxError, match="nested deeper"):
        parse_at("x=" + "[" * 100_000)
    with pytest.raises(GradxError, match="longer than"):
        parse_at("x=" + "1," * 600_000 + "1")
    # Deep parentheses in a value: the expression parser's own limits answer.
    with pytest.raises(GradxError):
        parse_at("x=" + "(" * 100_000 + "1" + ")" * 100_000)


GRAMMAR = st.text(alphabet="xy_a=[](),.-+*/ 0123456789epi", max_size=60)


@settings(max_examples=400, deadline=None)
@given(GRAMMAR)
def test_any_text_gives_values_or_a_clean_error(text):
    try:
        values = parse_at(text)
    except GradxError as exc:
        assert exc.message.strip() and "\n" not in exc.message
        return
    for value in values:
        assert len(value.flat) == math.prod(value.shape)
        assert all(math.isfinite(v) for v in value.flat)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_unicode_text_gives_values_or_a_clean_error(text):
    try:
        parse_at(text)
    except GradxError:
        pass


FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def nested_lists(draw):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    count = math.prod(shape)
    flat = draw(st.lists(FLOATS, min_size=count, max_size=count))
    return shape, flat


def _write(flat, shape):
    if not shape:
        return repr(flat[0])
    step = len(flat) // shape[0]
    inner = (_write(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0]))
    return "[" + ",".join(inner) + "]"


@settings(max_examples=200, deadline=None)
@given(nested_lists(), st.sampled_from(["a", "w_1", ""]))
def test_nested_lists_round_trip(drawn, name):
    shape, flat = drawn
    text = (f"{name}=" if name else "") + _write(flat, shape)
    (value,) = parse_at(text)
    assert value.name == (name or ALL)
    assert value.shape == tuple(shape)
    assert value.flat == tuple(flat)


@settings(max_examples=100, deadline=None)
@given(st.lists(FLOATS, min_size=1, max_size=6), st.lists(FLOATS, min_size=1, max_size=6))
def test_comma_lists_run_until_the_next_name(xs, ys):
    (x, y) = parse_at("x=" + ",".join(map(repr, xs)) + ",y=" + ",".join(map(repr, ys)))
    assert x.flat == tuple(xs) and y.flat == tuple(ys)
    assert x.shape == (() if len(xs) == 1 else (len(xs),))
