"""Points from the command line: --at, --range, --steps; refusals; any text is handled cleanly."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.commands.eval.points import (
    DEFAULT_STEPS,
    MAX_POINTS,
    build_grid,
    parse_range,
    points_of,
)
from gradx.errors import GradxError


def coords(grid, start=0, stop=None):
    chunk = grid.chunk(start, grid.size if stop is None else stop)
    return {name: tensor.tolist() for name, tensor in chunk.items()}


def test_the_readme_range_works_exactly_as_written():
    grid = build_grid(("x",), (), ("-6.28:6.28",), None)
    values = coords(grid)["x"]
    assert len(values) == DEFAULT_STEPS
    assert values[0] == -6.28 and values[-1] == 6.28


def test_constant_expressions_as_ends_and_values():
    grid = build_grid(("x",), (), ("-2*pi:2*pi",), 5)
    assert coords(grid)["x"] == pytest.approx([-2 * math.pi, -math.pi, 0, math.pi, 2 * math.pi])
    assert points_of("x=pi/4", ("x",)) == (pytest.approx((math.pi / 4,)),)
    assert points_of("x=atan2(1, 1),y=2", ("x", "y")) == (pytest.approx((math.pi / 4, 2)),)


def test_step_ranges_include_the_end_when_it_falls_on_the_grid():
    grid = build_grid(("x",), (), ("0:1:0.25",), None)
    assert coords(grid)["x"] == [0, 0.25, 0.5, 0.75, 1.0]
    grid = build_grid(("x",), (), ("0:1:0.3",), None)
    assert coords(grid)["x"] == pytest.approx([0, 0.3, 0.6, 0.9])


def test_grids_of_several_variables_and_fixed_values():
    grid = build_grid(("x", "y"), (), ("x=0:1", "y=10:20"), 2)
    assert coords(grid) == {"x": [0, 0, 1, 1], "y": [10, 20, 10, 20]}
    grid = build_grid(("x", "y"), ("y=5",), ("x=0:1",), 3)
    assert coords(grid) == {"x": [0, 0.5, 1], "y": [5, 5, 5]}


def test_chunks_are_slices_of_the_same_grid():
    grid = build_grid(("x", "y"), (), ("x=0:1", "y=0:1"), 7)
    whole = coords(grid)
    part = coords(grid, 10, 20)
    assert part == {name: values[10:20] for name, values in whole.items()}
    assert all(t.dtype == torch.float64 for t in grid.chunk(0, 3).values())


def test_explicit_points():
    grid = build_grid(("x", "y"), ("x=1,y=2", "y=4, x=3"), (), None)
    assert coords(grid) == {"x": [1, 3], "y": [2, 4]}
    assert coords(build_grid(("x",), ("1.5",), (), None)) == {"x": [1.5]}


@pytest.mark.parametrize(
    ("at", "ranges", "steps", "message"),
    [
        ((), ("1:-1",), None, "reversed"),
        ((), ("1:1",), None, "empty"),
        ((), ("banana",), None, "is not A:B or A:B:STEP"),
        ((), ("0:1:0",), None, "step must be positive"),
        ((), ("0:1:-1",), None, "step must be positive"),
        ((), ("0:1:2",), None, "step is longer than the range"),
        ((), ("0:1:1e-12",), None, "too many points"),
        ((), ("0:inf",), None, "infinity is not allowed"),
        ((), ("0:1e999",), None, "number too large"),
        ((), ("0:log(-1)",), None, "not a finite number"),
        ((), ("0:x",), None, "must be a number or a constant expression"),
        ((), ("z=0:1",), None, "'z' is not a variable of the expression"),
        ((), ("0:1",), 1, "--steps must be between 2"),
        ((), ("0:1",), 10**9, "--steps must be between 2"),
        (("x=1",), (), 5, "--steps needs a --range"),
        ((), (), None, "no points: add --at x=1 or --range -5:5"),
        (("x=1,x=2",), (), None, "x is given twice"),
        (("y=1",), (), None, "'y' is not a variable"),
        (("",), (), None, "--at is empty"),
        (("x=",), (), None, "no value after 'x='"),
        (("x=[[1,2],[3,4]]",), (), None, "a matrix is for gradx graph or gradx check"),
        (("x=1,2",), ("0:1",), None, "x is a vector"),
        (("x=1", "x=2"), ("0:1",), None, "at most one --at"),
        (("x=1",), ("0:1",), None, "has both a --range and an --at value"),
    ],
)
def test_refusals(at, ranges, steps, message):
    with pytest.raises(GradxError) as info:
        build_grid(("x",), at, ranges, steps)
    assert message in str(info.value)


def test_a_vector_is_several_points():
    assert coords(build_grid(("x",), ("x=0,1,2",), (), None)) == {"x": [0, 1, 2]}
    assert coords(build_grid(("x",), ("0,1,2",), (), None)) == {"x": [0, 1, 2]}
    assert coords(build_grid(("x",), ("x=[0,1]", "x=5"), (), None)) == {"x": [0, 1, 5]}
    paired = build_grid(("x", "y"), ("x=1,2,y=3,4",), (), None)
    assert coords(paired) == {"x": [1, 2], "y": [3, 4]}
    broadcast = build_grid(("x", "y"), ("x=1,2,3,y=pi",), (), None)
    assert coords(broadcast) == {"x": [1, 2, 3], "y": pytest.approx([math.pi] * 3)}
    with pytest.raises(GradxError, match="x has 2 and y has 3 values; vectors pair up"):
        build_grid(("x", "y"), ("x=1,2,y=3,4,5",), (), None)


def test_two_variables_need_named_ranges_and_all_values():
    with pytest.raises(GradxError, match="name the variable"):
        build_grid(("x", "y"), (), ("0:1",), None)
    with pytest.raises(GradxError, match="no values for y"):
        build_grid(("x", "y"), (), ("x=0:1",), None)
    with pytest.raises(GradxError, match="name the variables"):
        build_grid(("x", "y"), ("1",), (), None)
    with pytest.raises(GradxError, match="gives no value for y"):
        build_grid(("x", "y"), ("x=1",), (), None)


def test_huge_grids_are_refused_before_any_work():
    with pytest.raises(GradxError, match="the limit is"):
        build_grid(("x", "y"), (), ("x=0:1", "y=0:1"), 20_000)
    assert MAX_POINTS >= 10_000_000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_range_text_gives_a_range_or_a_clean_error(text):
    try:
        name, start, stop, step = parse_range(text, ("x",))
    except GradxError as error:
        assert error.message and "\n" not in error.message
    else:
        assert name == "x" and math.isfinite(start) and math.isfinite(stop) and start < stop
        assert step is None or step > 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_point_text_gives_values_or_a_clean_error(text):
    try:
        points = points_of(text, ("x", "y"))
    except GradxError as error:
        assert error.message and "\n" not in error.message
    else:
        assert points and all(len(p) == 2 and all(map(math.isfinite, p)) for p in points)
