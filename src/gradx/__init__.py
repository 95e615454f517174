"""gradx: a command-line gradient explorer for PyTorch.

Importing gradx is cheap: torch and sympy are imported only when a function that needs them
is called.
"""

from __future__ import annotations

__version__ = "0.1.0"


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
