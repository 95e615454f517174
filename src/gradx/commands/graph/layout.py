"""A layered top-down layout of a directed acyclic graph, in pure Python (deterministic).

The classic steps (Sugiyama): every box goes to a layer (the longest path from the top, so each
edge goes down at least one layer); an edge that spans several layers gets a bend point in each
layer it passes, so it can run between the boxes; barycentre sweeps order each layer to reduce
crossings (the best order seen is kept); x positions pull each box towards the middle of its
neighbours while keeping the boxes of a layer in order and apart (an isotonic regression per
layer, linear in its size); the layers are stacked with a gap between them.

Nothing here knows about autograd: ``gradx.commands.graph.picture`` says what the boxes hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP_X = 28.0  # between two boxes of a layer
BEND_GAP = 14.0  # beside an edge passing through a layer
GAP_Y = 56.0  # between two layers
ORDER_SWEEPS = 12  # barycentre sweeps at most (one down or one up each)
# Passes that pull each box towards its neighbours above, below or both; the last one hangs
# each box under its parents, so a chain of single edges runs straight.
PLACE_SWEEPS = ("down", "up", "down", "up", "both", "down")
WEIGHT_CAP = 1e6  # the weight of a box is what hangs below it, up to this
MAX_BENDS = 50_000  # beyond it, long edges run straight: the layout stays within seconds


@dataclass(frozen=True)
class Placement:
    """Where a box went: its top-left corner and its layer (0 at the top)."""

    x: float
    y: float
    layer: int


@dataclass(frozen=True)
class Layout:
    """Boxes placed in layers, and for every edge (in the order given) its route: points from
    the bottom of the upper box to the top of the lower one, through its bends."""

    boxes: tuple[Placement, ...]
    routes: tuple[tuple[tuple[float, float], ...], ...]
    width: float  # right edge of the rightmost box, plus ``left``
    height: float  # bottom of the lowest box, from 0
    crossings: int  # edge crossings left between adjacent layers (bends included)


def layered_layout(
    sizes: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    left: float = 0.0,
    top: float = 0.0,
) -> Layout:
    """Lay out boxes of the given (width, height) joined by ``edges`` (upper, lower), top-down.

    Box 0 is the top. A box no edge comes into is put just above the highest box it points to,
    or in the bottom layer when it points to none. An edge that would close a cycle is laid out
    as if it pointed the other way (an autograd graph has none).
    """
    count = len(sizes)
    if count == 0:
        return Layout((), tuple(() for _ in edges), left, top, 0)
    directed = _acyclic(count, edges)
    layer = _layers(count, directed)
    graph = _Expanded(sizes, directed, layer)
    layers = graph.initial_order()
    layers, crossings = _reduce_crossings(graph, layers)
    centres = _place_x(graph, layers)
    tops, heights = _rows(graph, layers, top)
    shift = left - min(centres[v] - graph.width[v] / 2 for row in layers for v in row)
    centres = [c + shift for c in centres]
    boxes = tuple(
        Placement(centres[v] - sizes[v][0] / 2, tops[layer[v]], layer[v]) for v in range(count)
    )
    routes = _routes(graph, boxes, centres, tops, heights, edges, directed)
    width = max(centres[v] + graph.width[v] / 2 for row in layers for v in row) + left
    height = max(b.y + sizes[i][1] for i, b in enumerate(boxes))
    return Layout(boxes, routes, width, height, crossings)


def _acyclic(count: int, edges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The edges, each one that closes a cycle (found by a depth-first walk) turned around."""
    out: list[list[int]] = [[] for _ in range(count)]
    for k, (a, _) in enumerate(edges):
        out[a].append(k)
    state = [0] * count  # 0 unseen, 1 on the walk's path, 2 done
    flipped: set[int] = set()
    for start in range(count):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, 0)]
        while stack:
            v, i = stack[-1]
            if i == len(out[v]):
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, i + 1)
            k = out[v][i]
            w = edges[k][1]
            if state[w] == 1:
                flipped.add(k)
            elif state[w] == 0:
                state[w] = 1
                stack.append((w, 0))
    return [(b, a) if k in flipped else (a, b) for k, (a, b) in enumerate(edges)]


def _layers(count: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Longest path from the top; boxes nothing points to go just above their highest child."""
    children: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for a, b in edges:
        if a != b:
            children[a].append(b)
            indegree[b] += 1
    sources = [v for v in range(count) if indegree[v] == 0]
    layer = [0] * count
    remaining = indegree[:]
    queue = list(sources)
    while queue:
        v = queue.pop()
        for w in children[v]:
            layer[w] = max(layer[w], layer[v] + 1)
            remaining[w] -= 1
            if remaining[w] == 0:
                queue.append(w)
    bottom = max(layer)
    for v in sources:
        if v == 0:
            continue
        below = [layer[w] for w in children[v]]
        layer[v] = min(below) - 1 if below else bottom
    return layer


class _Expanded:
    """The graph with a bend vertex wherever an edge passes through a layer."""

    def __init__(
        self,
        sizes: Sequence[tuple[float, float]],
        edges: Sequence[tuple[int, int]],
        layer: list[int],
    ) -> None:
        self.real = len(sizes)
        self.width = [w for w, _ in sizes]
        self.height = [h for _, h in sizes]
        self.layer = list(layer)
        self.down: list[list[int]] = [[] for _ in sizes]
        self.up: list[list[int]] = [[] for _ in sizes]
        self.chains: list[list[int]] = []  # per edge: its vertices from upper to lower
        bends = 0
        for a, b in edges:
            chain = [a]
            span = layer[b] - layer[a]
            if span > 1 and bends + span - 1 <= MAX_BENDS:
                for step in range(1, span):
                    chain.append(self._bend(layer[a] + step))
                bends += span - 1
            chain.append(b)
            for u, w in zip(chain, chain[1:], strict=False):
                if u != w:
                    self.down[u].append(w)
                    self.up[w].append(u)
            self.chains.append(chain)
        self.weight = self._sizes_below()  # how strongly a vertex keeps its place

    def _sizes_below(self) -> list[float]:
        """1 + the vertices below each one (counted again where paths meet; capped)."""
        size = [1.0] * len(self.layer)
        for v in sorted(range(len(self.layer)), key=lambda v: -self.layer[v]):
            size[v] = min(1.0 + sum(size[w] for w in self.down[v]), WEIGHT_CAP)
        return size

    def _bend(self, layer: int) -> int:
        self.width.append(0.0)
        self.height.append(0.0)
        self.layer.append(layer)
        self.down.append([])
        self.up.append([])
        return len(self.width) - 1

    def is_bend(self, v: int) -> bool:
        return v >= self.real

    def initial_order(self) -> list[list[int]]:
        """Each layer in the order a depth-first walk from box 0 meets its vertices."""
        rows: list[list[int]] = [[] for _ in range(max(self.layer) + 1)]
        seen = [False] * len(self.layer)
        for start in range(len(self.layer)):
            if seen[start] or (start >= self.real and self.up[start]):
                continue
            stack = [start]
            while stack:
                v = stack.pop()
                if seen[v]:
                    continue
                seen[v] = True
                rows[self.layer[v]].append(v)
                stack.extend(reversed([w for w in self.down[v] if not seen[w]]))
        return rows


def _reduce_crossings(graph: _Expanded, rows: list[list[int]]) -> tuple[list[list[int]], int]:
    """Barycentre sweeps, down then up; the order with the fewest crossings is kept."""
    best = [row[:] for row in rows]
    best_count = _crossings(graph, rows)
    stale = 0
    for sweep in range(ORDER_SWEEPS):
        if best_count == 0:
            break
        downward = sweep % 2 == 0
        indices = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for i in indices:
            fixed = rows[i - 1] if downward else rows[i + 1]
            position = {v: p for p, v in enumerate(fixed)}
            keyed = []
            for p, v in enumerate(rows[i]):
                near = graph.up[v] if downward else graph.down[v]
                at = [position[w] for w in near if w in position]
                keyed.append((sum(at) / len(at) if at else float(p), p, v))
            keyed.sort()
            rows[i] = [v for _, _, v in keyed]
        count = _crossings(graph, rows)
        if count < best_count:
            best, best_count, stale = [row[:] for row in rows], count, 0
        else:
            stale += 1
            if stale >= 4:
                break
    return best, best_count


def _crossings(graph: _Expanded, rows: list[list[int]]) -> int:
    """Crossings between adjacent layers: inversions of the lower ends, counted by merge sort."""
    total = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        position = {v: p for p, v in enumerate(lower)}
        ends = [
            position[w]
            for p, v in enumerate(upper)
            for w in sorted(graph.down[v], key=lambda w: position.get(w, -1))
            if w in position
        ]
        total += _inversions(ends)
    return total


def _inversions(values: list[int]) -> int:
    """Pairs i < j with values[i] > values[j] (bottom-up merge sort, no recursion)."""
    count = 0
    width = 1
    items = values[:]
    while width < len(items):
        merged: list[int] = []
        for start in range(0, len(items), 2 * width):
            left = items[start : start + width]
            right = items[start + width : start + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    merged.append(right[j])
                    count += len(left) - i
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            merged.extend(left[i:])
            merged.extend(right[j:])
        items = merged
        width *= 2
    return count


def _place_x(graph: _Expanded, rows: list[list[int]]) -> list[float]:
    """Centres: packed left to right, then pulled towards their neighbours, layers kept apart."""
    centre = [0.0] * len(graph.width)
    for row in rows:
        x = 0.0
        for k, v in enumerate(row):
            if k:
                x += _separation(graph, row[k - 1], v)
            centre[v] = x
    for direction in PLACE_SWEEPS:
        if direction == "up":
            indices: Sequence[int] = range(len(rows) - 2, -1, -1)
        else:
            indices = range(1 if direction == "down" else 0, len(rows))
        for i in indices:
            row = rows[i]
            wanted = []
            for v in row:
                if direction == "both":
                    near = graph.up[v] + graph.down[v]
                else:
                    near = graph.up[v] if direction == "down" else graph.down[v]
                wanted.append(sum(centre[w] for w in near) / len(near) if near else centre[v])
            for v, x in zip(row, _ordered_fit(graph, row, wanted), strict=True):
                centre[v] = x
    return centre


def _separation(graph: _Expanded, a: int, b: int) -> float:
    gap = BEND_GAP if graph.is_bend(a) or graph.is_bend(b) else GAP_X
    return (graph.width[a] + graph.width[b]) / 2 + gap


def _ordered_fit(graph: _Expanded, row: list[int], wanted: list[float]) -> list[float]:
    """Positions as close to ``wanted`` as possible (least squares) keeping the row's order and
    separations: pool-adjacent-violators on the positions less their minimal offsets. A box with
    more below it weighs more, so a chain of operations stays straight and leaves move aside."""
    offset = [0.0]
    for k in range(1, len(row)):
        offset.append(offset[-1] + _separation(graph, row[k - 1], row[k]))
    blocks: list[list[float]] = []  # [weighted sum of targets, weight, members]
    for v, target, off in zip(row, wanted, offset, strict=True):
        weight = graph.weight[v]
        blocks.append([(target - off) * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight, members = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight
            blocks[-1][2] += members
    fitted: list[float] = []
    for total, weight, members in blocks:
        fitted.extend([total / weight] * int(members))
    return [y + off for y, off in zip(fitted, offset, strict=True)]


def _rows(graph: _Expanded, rows: list[list[int]], top: float) -> tuple[list[float], list[float]]:
    """The top of each layer and its height (its tallest box)."""
    tops: list[float] = []
    heights: list[float] = []
    y = top
    for row in rows:
        height = max((graph.height[v] for v in row), default=0.0)
        tops.append(y)
        heights.append(height)
        y += height + GAP_Y
    return tops, heights


def _routes(
    graph: _Expanded,
    boxes: Sequence[Placement],
    centre: list[float],
    tops: list[float],
    heights: list[float],
    edges: Sequence[tuple[int, int]],
    directed: Sequence[tuple[int, int]],
) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Each edge from a port on the bottom of its upper box, straight down through the layers it
    passes, to a port on the top of its lower box; a box's ports are spread along its side in
    the order of where their edges go, so edges leave and arrive without crossing each other."""
    middles: list[list[tuple[float, float]]] = []
    for chain in graph.chains:
        points: list[tuple[float, float]] = []
        for v in chain[1:-1]:
            row = graph.layer[v]
            points += [(centre[v], tops[row]), (centre[v], tops[row] + heights[row])]
        middles.append(points)
    leaving: dict[int, list[tuple[float, int]]] = {}
    arriving: dict[int, list[tuple[float, int]]] = {}
    for k, (a, b) in enumerate(directed):
        chain = graph.chains[k]
        towards = middles[k][0][0] if middles[k] else centre[b]
        came_from = middles[k][-1][0] if middles[k] else centre[a]
        leaving.setdefault(a, []).append((towards, k))
        arriving.setdefault(b, []).append((came_from, k))
        assert chain[0] == a and chain[-1] == b
    start = _ports(graph, boxes, leaving, bottom=True)
    end = _ports(graph, boxes, arriving, bottom=False)
    routes = []
    for k, (a, b) in enumerate(directed):
        row = graph.layer[a]
        below = tops[row] + heights[row]  # down past the taller boxes beside it first
        drop = [(start[k][0], below)] if start[k][1] < below else []
        route = (start[k], *drop, *middles[k], end[k])
        routes.append(route if (a, b) == tuple(edges[k]) else tuple(reversed(route)))
    return tuple(routes)


def _ports(
    graph: _Expanded,
    boxes: Sequence[Placement],
    ends: dict[int, list[tuple[float, int]]],
    *,
    bottom: bool,
) -> dict[int, tuple[float, float]]:
    found: dict[int, tuple[float, float]] = {}
    for v, items in ends.items():
        box = boxes[v]
        width = graph.width[v]
        y = box.y + graph.height[v] if bottom else box.y
        ordered = sorted(items)
        for i, (_, k) in enumerate(ordered):
            found[k] = (box.x + width * (i + 1) / (len(ordered) + 1), y)
    return found
