"""Fold an autograd graph into a tree that stays readable however large the graph is.

* A node reached a second time (a shared input) is shown once; later it is a reference.
* Along a chain of operations (from each node to its largest non-leaf input), a run of
  ``MIN_REPEATS`` or more repeats of the same structure (the same operations, shapes and leaf
  shapes: the layers of a deep network) shows its first repeat and folds the others into one
  line that says how many nodes it hides.
* Below ``depth`` levels, one line counts the nodes not shown.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from gradx.commands.graph.model import AutogradGraph, GraphNode, GraphView, ViewItem

MIN_REPEATS = 3  # a pattern seen this many times in a row is folded after its first time
MAX_PERIOD = 8  # the longest pattern, in chain nodes, looked for
MAX_DEPTH = 400  # deeper trees are cut here whatever --depth says (the walk is recursive)
SIZE_CAP = 10**9  # subtree sizes count shared nodes again; capped so they stay small numbers


@dataclass(frozen=True)
class _Fold:
    repeats: int  # hidden repeats
    pattern: tuple[str, ...]
    body: tuple[int, ...]  # every node the hidden repeats hold
    after: int | None  # the chain node that follows the last repeat


def build_view(graph: AutogradGraph, depth: int | None = None) -> GraphView:
    """The tree to print: shared nodes as references, repeats folded, cut at ``depth``."""
    if graph.root is None:
        return GraphView(None, 0, 0, 0, 0, depth)
    limit = MAX_DEPTH if depth is None else min(depth, MAX_DEPTH)
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, 4 * MAX_DEPTH + 1000))
    try:
        return _Viewer(graph.nodes, limit, depth).view(graph.root)
    finally:
        sys.setrecursionlimit(previous)


class _Viewer:
    def __init__(self, nodes: Sequence[GraphNode], limit: int, depth: int | None) -> None:
        self.nodes = nodes
        self.limit = limit
        self.depth = depth
        order = _postorder(nodes)
        self.structure = _structure_hashes(nodes, order)
        self.size = _subtree_sizes(nodes, order)
        self.shown: set[int] = set()
        self.folded: set[int] = set()
        self.below: set[int] = set()
        self.fold_at: dict[int, _Fold] = {}
        self.in_chain: set[int] = set()

    def view(self, root: int) -> GraphView:
        item = self._item(root, 1)
        return GraphView(
            root=item,
            total=len(self.nodes),
            shown=len(self.shown),
            folded=len(self.folded - self.shown),
            below_depth=len(self.below - self.shown - self.folded),
            depth=self.depth,
        )

    def _item(self, nid: int, level: int) -> ViewItem:
        if nid in self.shown:
            return ViewItem("ref", nid)
        if level > self.limit:
            hidden = self._unseen_below(nid)
            self.below.update(hidden)
            return ViewItem("more", nid, hidden=len(hidden))
        if nid not in self.in_chain:
            self._plan_chain(nid)
        self.shown.add(nid)
        node = self.nodes[nid]
        children = [ViewItem("cut", nid, cut=cut) for cut in node.cuts]
        for child in node.inputs:
            if child is None:
                continue
            fold = self.fold_at.get(child)
            if fold is not None and child not in self.shown:
                children.append(self._fold_item(fold, level + 1))
            else:
                children.append(self._item(child, level + 1))
        return ViewItem("node", nid, children=tuple(children))

    def _fold_item(self, fold: _Fold, level: int) -> ViewItem:
        self.folded.update(n for n in fold.body if n not in self.shown)
        after = () if fold.after is None else (self._item(fold.after, level + 1),)
        return ViewItem(
            "fold",
            children=after,
            hidden=len(fold.body),
            repeats=fold.repeats,
            pattern=fold.pattern,
        )

    def _plan_chain(self, start: int) -> None:
        """Follow the chain that starts here and note the runs of repeats along it."""
        chain = [start]
        members = {start}
        while True:
            nxt = self._main_input(chain[-1])
            if nxt is None or nxt in self.in_chain or nxt in members:
                break
            chain.append(nxt)
            members.add(nxt)
        self.in_chain.update(chain)
        signature = [
            self._local_signature(n, chain[k + 1] if k + 1 < len(chain) else None)
            for k, n in enumerate(chain)
        ]
        i = 0
        while i < len(chain):
            repeats, period = _longest_run(signature, i)
            if repeats < MIN_REPEATS:
                i += 1
                continue
            first_hidden, end = i + period, i + repeats * period
            body = tuple(
                n for k in range(first_hidden, end) for n in self._with_side_inputs(chain, k)
            )
            self.fold_at[chain[first_hidden]] = _Fold(
                repeats=repeats - 1,
                pattern=tuple(self.nodes[n].name for n in chain[i : i + period]),
                body=body,
                after=chain[end] if end < len(chain) else None,
            )
            i = end

    def _with_side_inputs(self, chain: list[int], k: int) -> list[int]:
        """A chain node and the nodes under its inputs other than the chain's next node."""
        nxt = chain[k + 1] if k + 1 < len(chain) else None
        found = [chain[k]]
        seen = {chain[k]}
        stack = [c for c in self.nodes[chain[k]].inputs if c is not None and c != nxt]
        while stack:
            n = stack.pop()
            if n in seen or n in self.in_chain:
                continue
            seen.add(n)
            found.append(n)
            stack.extend(c for c in self.nodes[n].inputs if c is not None)
        return found

    def _main_input(self, nid: int) -> int | None:
        inputs = [c for c in self.nodes[nid].inputs if c is not None and self.nodes[c].leaf is None]
        return max(inputs, key=lambda c: self.size[c]) if inputs else None

    def _local_signature(self, nid: int, nxt: int | None) -> tuple:
        node = self.nodes[nid]
        side = tuple(sorted(self.structure[c] for c in node.inputs if c is not None and c != nxt))
        return (node.name, node.outputs, side, sum(1 for c in node.inputs if c is None))

    def _unseen_below(self, nid: int) -> set[int]:
        found: set[int] = set()
        stack = [nid]
        while stack:
            n = stack.pop()
            if n in found or n in self.shown:
                continue
            found.add(n)
            stack.extend(c for c in self.nodes[n].inputs if c is not None)
        return found


def _longest_run(signature: Sequence[tuple], start: int) -> tuple[int, int]:
    """(repeats, period) of the pattern starting at ``start`` that covers the most nodes."""
    best = (1, 1)
    for period in range(1, MAX_PERIOD + 1):
        unit = signature[start : start + period]
        if len(unit) < period:
            break
        repeats = 1
        while signature[start + repeats * period : start + (repeats + 1) * period] == unit:
            repeats += 1
        if repeats >= MIN_REPEATS and repeats * period > best[0] * best[1]:
            best = (repeats, period)
    return best


def _postorder(nodes: Sequence[GraphNode]) -> list[int]:
    """Every node after all of its inputs (iterative: graphs can be deeper than the stack)."""
    order: list[int] = []
    done: set[int] = set()
    for start in range(len(nodes)):
        if start in done:
            continue
        stack: list[tuple[int, bool]] = [(start, False)]
        while stack:
            n, expanded = stack.pop()
            if expanded:
                if n not in done:
                    done.add(n)
                    order.append(n)
                continue
            if n in done:
                continue
            stack.append((n, True))
            stack.extend((c, False) for c in nodes[n].inputs if c is not None and c not in done)
    return order


def _structure_hashes(nodes: Sequence[GraphNode], order: Sequence[int]) -> dict[int, int]:
    """A hash of each node's whole input structure (names and shapes; leaf names ignored)."""
    result: dict[int, int] = {}
    for n in order:
        node = nodes[n]
        inputs = tuple(result[c] if c is not None else None for c in node.inputs)
        result[n] = hash((node.name, node.outputs, inputs))
    return result


def _subtree_sizes(nodes: Sequence[GraphNode], order: Sequence[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for n in order:
        total = 1 + sum(sizes[c] for c in nodes[n].inputs if c is not None)
        sizes[n] = min(total, SIZE_CAP)
    return sizes
