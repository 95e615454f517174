"""``gradx graph``'s entry: ``GraphRequest.from_cli(...)`` checks the options, ``.run()`` traces
the expression (``sources``) or the file's target (``isolated``: in a worker process), or the
graphs of its derivatives (``orders``), and folds each graph into the tree to show (``view``).

Importing it is cheap (no torch). Rendering happens in ``gradx.render.graph_output``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradx.commands.graph.model import (
    AutogradGraph,
    GraphPicture,
    GraphReport,
    HigherOrderGraphs,
    OrdersReport,
)
from gradx.commands.graph.sources import is_script_target
from gradx.errors import GradxError
from gradx.numerics.settings import DType

DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True)
class GraphOutput:
    """Where ``gradx graph`` writes its report: output-only options, read by the renderer."""

    json: bool = False  # --json: one JSON document instead of the tree
    dot: Path | None = None  # --dot FILE: the whole graph as Graphviz DOT (- is stdout)
    save: Path | None = None  # --save FILE.svg|.png|.pdf: a picture of the whole graph
    lang: str = "en"  # --lang: the words of the tree, the tables and the picture (JSON: English)


@dataclass(frozen=True)
class GraphRequest:
    """What ``gradx graph`` was asked to do, as given on the command line."""

    target: str  # an expression, or FILE.py[::NAME]
    at: tuple[str, ...] = ()
    shapes: tuple[str, ...] = ()
    dtype: str = DType.FLOAT64
    depth: int | None = None  # levels of the tree shown (None: all)
    backward: bool = True
    frozen: tuple[str, ...] = ()
    gradient: str | None = None  # the vector backward() gets, as written
    order: int = 1  # above 1: the graphs create_graph=True builds for f', f'', ...
    timeout: float | None = DEFAULT_TIMEOUT  # for a file: loading and tracing
    output: GraphOutput = field(default_factory=GraphOutput)

    @property
    def is_script(self) -> bool:
        """Whether the target names a Python file (``file.py`` or ``file.py::NAME``)."""
        return is_script_target(self.target)

    @classmethod
    def from_cli(
        cls,
        *,
        target: str,
        at: tuple[str, ...] = (),
        shapes: tuple[str, ...] = (),
        dtype: str = DType.FLOAT64,
        depth: int | None = None,
        backward: bool = True,
        frozen: tuple[str, ...] = (),
        gradient: str | None = None,
        order: int = 1,
        timeout: float | None = DEFAULT_TIMEOUT,
        json_out: bool = False,
        dot: Path | None = None,
        save: Path | None = None,
        lang: str | None = None,
    ) -> GraphRequest:
        """Check the options (GradxError, exit 2) before anything is traced."""
        from gradx.translations import resolve_lang

        output = GraphOutput(json=json_out, dot=dot, save=save, lang=resolve_lang(lang))
        if dot is not None and order != 1:
            # The derivative graphs are several: one DOT file would silently show only one.
            raise GradxError(
                "--dot writes one graph; with --order K use --save FILE.svg (one panel per "
                "order) or --json"
            )
        if save is not None or dot is not None:
            from gradx.commands.graph.picture import check_picture_options

            check_picture_options(dot=dot, save=save)
        if dot is not None:
            from gradx.atomic_file import check_writable

            if json_out and str(dot) == "-":
                raise GradxError("--dot - and --json both write to standard output: choose one")
            check_writable(dot)
        request = cls(
            target=target,
            at=at,
            shapes=shapes,
            dtype=DType.parse(dtype),
            depth=depth,
            backward=backward,
            frozen=frozen,
            gradient=gradient,
            order=order,
            timeout=timeout,
            output=output,
        )
        if shapes and not request.is_script:
            raise GradxError("--shape is for a file target; for an expression use --at")
        return request

    def run(
        self, on_event: Callable[[tuple[Any, ...]], None] | None = None
    ) -> GraphReport | OrdersReport:
        """Trace the graph and fold it for showing: a GraphReport, or an OrdersReport for
        ``--order K`` (one graph per derivative).

        ``on_event`` is accepted for the shape all four commands share; tracing sends no events.
        """
        from gradx.commands.graph.view import build_view

        if self.order != 1:
            orders = self._derivative_graphs()
            views = tuple(build_view(step.graph, self.depth) for step in orders.steps)
            return OrdersReport(orders, views, self._picture(orders))
        if self.is_script:
            from gradx.commands.graph.isolated import isolated_script_graph

            graph = isolated_script_graph(
                self.target,
                self.at,
                self.shapes,
                self.dtype,
                backward=self.backward,
                frozen=self.frozen,
                gradient=self.gradient,
                timeout=self.timeout,
            )
        else:
            from gradx.commands.graph.sources import expression_graph

            graph = expression_graph(
                self.target,
                self.at,
                self.dtype,
                backward=self.backward,
                frozen=self.frozen,
                gradient=self.gradient,
            )
        return GraphReport(graph, build_view(graph, self.depth), self._picture(graph))

    def _picture(self, result: AutogradGraph | HigherOrderGraphs) -> GraphPicture | None:
        """``--save``: the whole graph (or the graphs of ``--order K``) laid out for drawing."""
        if self.output.save is None:
            return None
        from gradx.commands.graph.picture import drawable_lang, picture_of

        # The words' widths shape the layout, so the language is settled before it.
        return picture_of(result, drawable_lang(self.output.lang, self.output.save))

    def _derivative_graphs(self) -> HigherOrderGraphs:
        if self.is_script:
            from gradx.commands.graph.isolated import isolated_script_derivative_graphs

            return isolated_script_derivative_graphs(
                self.target,
                self.at,
                self.shapes,
                self.dtype,
                order=self.order,
                gradient=self.gradient,
                frozen=self.frozen,
                timeout=self.timeout,
            )
        from gradx.commands.graph.orders import derivative_graphs

        return derivative_graphs(
            self.target, self.at, self.dtype, self.order, self.gradient, self.frozen
        )
