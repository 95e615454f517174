"""gradx: a command-line gradient explorer for PyTorch.

Importing gradx is cheap: torch and sympy are imported only when a function that needs them
is called.
"""

from __future__ import annotations

__version__ = "0.1.0"


# ---- check: gradient checks from Python (imported lazily, see gradx.checker)


def check(fn, *inputs, **options):  # noqa: ANN001, ANN201 - documented in gradx.checker.api
    """Check autograd's gradients of ``fn`` at ``inputs`` against finite differences.

    Returns a CheckReport (``.ok``, ``.verdict``, ``print(report)``). Options: ``kwargs``,
    ``order``, ``dtype``, ``rtol``, ``atol``, ``seed``, ``samples``, ``method``, ``name``;
    see ``gradx.checker.api.check`` and docs/check.md.
    """
    from gradx.checker.api import check as run_check

    return run_check(fn, *inputs, **options)


def assert_gradients(fn, *inputs, **options):  # noqa: ANN001, ANN201 - see gradx.checker.api
    """Raise AssertionError with the readable report unless ``fn``'s gradients check out."""
    from gradx.checker.api import assert_gradients as run_assert

    return run_assert(fn, *inputs, **options)


# ---- explain-error: Python and notebook entry points (imported lazily, see gradx.explain)


def install(*, lang: str | None = None) -> None:
    """Explain autograd errors under their traceback (adds a ``sys.excepthook``)."""
    from gradx.explain import install as install_hook

    install_hook(lang=lang)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext gradx``: explain autograd errors under their traceback in IPython/Jupyter."""
    from gradx.explain import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext gradx``: back to plain tracebacks."""
    from gradx.explain import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> object:
    # ``gradx.explain(exc_or_text)``: the explain package is itself callable; importing it
    # here, on first use, keeps ``import gradx`` cheap.
    if name == "explain":
        import importlib

        return importlib.import_module("gradx.explain")
    raise AttributeError(f"module 'gradx' has no attribute {name!r}")
