"""``gradx check``: autograd gradients of a user's file (or of a Python function) against
finite differences, with wrong entries located and their likely cause named.

Data flows one way:

* ``spec`` parses ``FILE::NAME``, ``--shape`` and ``--at`` (stdlib only);
* ``targets`` loads the file as a module and lists its targets (``discover``, ``select``);
* ``inputs`` builds their arguments (``make_inputs``) from the command line, the file's
  ``example_NAME()`` or a seeded random draw;
* ``problem`` sees a target on its inputs as one function R^N → R^M (batched with vmap when
  possible, point by point otherwise); ``numeric`` holds the finite differences;
* ``engine`` compares (full Jacobian or random projections with localisation) and ``causes``
  names the pattern of what is wrong; ``session`` turns one target into a ``TargetResult``;
* ``reference_check`` replaces finite differences for ``--against``: a kernel against a
  reference implementation, in the kernel's dtype and in float64, with a per-tensor budget;
* ``device`` runs the user's code on ``--device`` (cpu, cuda, mps) while gradx's numerics stay
  on the cpu;
* ``runner`` (parent, no torch) and ``worker`` (child) isolate targets with a time limit;
* ``model`` holds the frozen dataclasses; ``gradx.render.check_report`` prints them.

``api`` is the Python entry point (``gradx.check`` / ``gradx.assert_gradients``). Importing
this package imports nothing heavy.
"""

from __future__ import annotations

from typing import Any


def isolated_graph(*args: Any, **kwargs: Any) -> Any:
    """``gradx graph FILE::NAME`` in this command's worker process, with a time limit.

    The public face of ``runner.run_graph`` (see there) for ``gradx.commands.graph``.
    """
    from gradx.commands.check.runner import run_graph

    return run_graph(*args, **kwargs)


def default_memory() -> int | None:
    """The worker's default memory cap in bytes (half of the machine's memory)."""
    from gradx.commands.check.runner import default_memory as default

    return default()
