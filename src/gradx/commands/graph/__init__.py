"""``gradx graph``: the autograd graph of an expression or a script function, as plain data.

``sources`` runs the computation, ``build`` walks its ``grad_fn`` graph and runs backward,
``view`` folds it into a readable tree; ``gradx.render.graph_*`` draws the results.
"""

from __future__ import annotations

from typing import Any


def script_graph(*args: Any, order: int = 1, **kwargs: Any) -> Any:
    """The graph of a target in a Python file, traced in this process (``sources.script_graph``);
    with ``order`` above 1, the graphs of its derivatives (``orders.script_derivative_graphs``).

    The public face used by ``gradx check``'s worker, which runs it in a child process.
    """
    if order != 1:
        from gradx.commands.graph.orders import script_derivative_graphs

        return script_derivative_graphs(*args, **{**kwargs, "order": order})
    from gradx.commands.graph.sources import script_graph as trace

    return trace(*args, **kwargs)


def preload() -> None:
    """Import the tracing machinery now (a worker does it before any time limit starts)."""
    import gradx.commands.graph.build  # noqa: F401
    import gradx.commands.graph.orders  # noqa: F401
    import gradx.commands.graph.sources  # noqa: F401
