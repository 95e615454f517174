"""``gradx graph FILE::NAME`` in a separate process, with a time limit (stdlib only here).

The user's file is imported and traced in ``gradx check``'s worker process
(``gradx.commands.check.worker``), so that a target that never returns is stopped after
``--timeout`` seconds, and nothing it starts outlives gradx (``gradx.child_process``); its
memory is capped like ``gradx check``'s default (half of the machine's memory). The
options are checked here first, so bad input exits 2 without starting the worker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gradx.commands.graph.model import AutogradGraph, HigherOrderGraphs
from gradx.errors import GradxError
from gradx.numerics.settings import DType


def isolated_script_graph(
    target: str,
    at: Sequence[str] = (),
    shapes: Sequence[str] = (),
    dtype: str = "float64",
    *,
    backward: bool = True,
    frozen: Sequence[str] = (),
    gradient: str | None = None,
    timeout: float | None = None,
) -> AutogradGraph:
    """``script_graph`` run in a worker process, within ``timeout`` seconds (None: no limit)."""
    from gradx.commands.check import default_memory, isolated_graph
    from gradx.user_script.spec import check_file, input_spec, split_target

    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise GradxError(f"--timeout {timeout:g}: give a positive number of seconds")
    DType.parse(dtype)  # InvalidChoice (exit 2) before a worker starts
    path, _ = split_target(target)
    check_file(path)
    input_spec(tuple(shapes), tuple(at))  # refuse bad --shape/--at before starting a worker
    options = {
        "at": tuple(at), "shapes": tuple(shapes), "dtype": dtype, "backward": backward,
        "frozen": tuple(frozen), "gradient": gradient,
    }  # fmt: skip
    return isolated_graph(target, options, timeout=timeout, memory=default_memory())


def isolated_script_derivative_graphs(
    target: str,
    at: Sequence[str] = (),
    shapes: Sequence[str] = (),
    dtype: str = "float64",
    *,
    order: int = 2,
    gradient: str | None = None,
    frozen: Sequence[str] = (),
    timeout: float | None = None,
) -> HigherOrderGraphs:
    """``orders.script_derivative_graphs`` (``--order K``) in a worker process, as above."""
    from gradx.commands.check import default_memory, isolated_graph
    from gradx.commands.graph.orders import check_order
    from gradx.commands.graph.sources import gradient_values
    from gradx.user_script.spec import check_file, input_spec, split_target

    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise GradxError(f"--timeout {timeout:g}: give a positive number of seconds")
    check_order(order)
    DType.parse(dtype)
    path, _ = split_target(target)
    check_file(path)
    input_spec(tuple(shapes), tuple(at))
    gradient_values(gradient)  # a bad --gradient exits 2 before a worker starts
    options = {
        "at": tuple(at), "shapes": tuple(shapes), "dtype": dtype, "order": order,
        "gradient": gradient, "frozen": tuple(frozen),
    }  # fmt: skip
    return isolated_graph(target, options, timeout=timeout, memory=default_memory())
