"""The layered layout behind ``gradx graph --save``: boxes never overlap, every edge goes down,
routes start and end on their boxes, and the same graph always gives the same picture."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gradx.commands.graph.layout import Layout, layered_layout


def overlapping(layout: Layout, sizes) -> list[tuple[int, int]]:
    boxes = [(p.x, p.y, p.x + w, p.y + h) for p, (w, h) in zip(layout.boxes, sizes, strict=True)]
    found = []
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                found.append((i, j))
    return found


def assert_well_formed(layout: Layout, sizes, edges) -> None:
    assert overlapping(layout, sizes) == []
    for (a, b), route in zip(edges, layout.routes, strict=True):
        upper, lower = layout.boxes[a], layout.boxes[b]
        assert upper.layer < lower.layer, (a, b)
        (x0, y0), (x1, y1) = route[0], route[-1]
        assert upper.x < x0 < upper.x + sizes[a][0] and y0 == upper.y + sizes[a][1]
        assert lower.x < x1 < lower.x + sizes[b][0] and y1 == lower.y
        ys = [y for _, y in route]
        assert ys == sorted(ys), route
    for p, (w, h) in zip(layout.boxes, sizes, strict=True):
        assert p.x >= -1e-9 and p.x + w <= layout.width + 1e-9 and p.y + h <= layout.height + 1e-9


@st.composite
def dags(draw):
    """Random DAGs: edges only from a lower index to a higher one, box 0 on top."""
    count = draw(st.integers(1, 40))
    sizes = [
        (float(draw(st.integers(10, 300))), float(draw(st.integers(10, 90)))) for _ in range(count)
    ]
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1))
    edges = [(a, b) for a, b in draw(st.lists(pairs, max_size=80)) if a < b]
    return sizes, edges


@settings(max_examples=150, deadline=None)
@given(dags())
def test_any_dag_is_laid_out_without_overlaps_and_with_edges_going_down(graph):
    sizes, edges = graph
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    assert layered_layout(sizes, edges) == layout  # deterministic


def test_a_shared_box_is_placed_once_with_an_edge_from_each_user():
    # output → add → (mul, sin); mul → x twice (x*x), sin → x: x is one box with three edges in
    sizes = [(120.0, 40.0), (100.0, 30.0), (110.0, 50.0), (100.0, 40.0), (160.0, 60.0)]
    edges = [(0, 1), (1, 2), (1, 3), (2, 4), (2, 4), (3, 4)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    assert [p.layer for p in layout.boxes] == [0, 1, 2, 2, 3]
    ends = [route[-1] for (_, b), route in zip(edges, layout.routes, strict=True) if b == 4]
    assert len(set(ends)) == 3  # each edge arrives at its own port on x's box


def test_a_long_edge_bends_in_every_layer_it_crosses():
    # 0 → 1 → 2 → 3, and 0 → 3 directly: that edge passes layers 1 and 2 beside their boxes
    sizes = [(100.0, 40.0)] * 4
    edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    long_route = layout.routes[3]
    assert len(long_route) == 2 + 2 * 2  # two ports, and in and out of two layers
    for x, y in long_route[1:-1]:
        for p in layout.boxes[1:3]:
            if p.y <= y <= p.y + 40.0:
                assert not p.x < x < p.x + 100.0  # beside the boxes, not through them


def test_crossings_are_reduced():
    # Two parents, their children given in crossed order: the sweeps uncross them
    sizes = [(50.0, 20.0)] * 7
    edges = [(0, 1), (0, 2), (1, 4), (2, 3), (1, 6), (2, 5)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    assert layout.crossings == 0


def test_boxes_no_edge_comes_into_sit_low():
    # Box 2 points at nothing: bottom layer; box 3 points at box 4: just above it
    sizes = [(50.0, 20.0)] * 5
    edges = [(0, 1), (1, 4), (3, 4)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    assert [p.layer for p in layout.boxes] == [0, 1, 2, 1, 2]


def test_a_cycle_is_laid_out_rather_than_looping_forever():
    sizes = [(50.0, 20.0)] * 3
    layout = layered_layout(sizes, [(0, 1), (1, 2), (2, 1)])
    assert overlapping(layout, sizes) == []
    assert len(layout.routes) == 3


def test_a_deep_chain_with_side_leaves_stays_narrow():
    # 300 layers of op → (leaf, next op): the chain is not pushed sideways layer after layer
    sizes = [(120.0, 40.0)]
    edges = []
    for _ in range(300):
        op = len(sizes) - 1
        sizes += [(300.0, 60.0), (120.0, 40.0)]
        edges += [(op, op + 1), (op, op + 2)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    assert layout.width < 2000  # a few boxes wide, whatever the depth


def test_beyond_the_bend_budget_long_edges_run_straight(monkeypatch):
    # Every op of a chain also uses the last box (a weight shared by every step of an RNN):
    # bends grow with the square of the depth; past the budget the rest run straight.
    import gradx.commands.graph.layout as layout_module

    monkeypatch.setattr(layout_module, "MAX_BENDS", 20)
    n = 30
    sizes = [(60.0, 20.0)] * (n + 1)
    edges = [(v, v + 1) for v in range(n - 1)] + [(v, n) for v in range(n)]
    layout = layered_layout(sizes, edges)
    assert_well_formed(layout, sizes, edges)
    long_routes = [len(r) for (a, b), r in zip(edges, layout.routes, strict=True) if b - a > 1]
    assert 2 in long_routes  # straight, past the budget
    assert max(long_routes) > 2  # bent, within it
