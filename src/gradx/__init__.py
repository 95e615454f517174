"""gradx: a command-line gradient explorer for PyTorch.

Importing gradx is cheap: torch and sympy are imported only when a function that needs them
is called.
"""

from __future__ import annotations

from gradx import plain_text as _plain_text

__version__ = "0.1.0"


# ---- how results print (``print(report)``): the renderers, imported when first needed


def _check_report_text(report: object) -> str:
    from gradx.render.check_report import plain_text

    return plain_text(report)  # type: ignore[arg-type]


def _explanation_text(explanation: object) -> str:
    from gradx.render.explanation import plain_text

    return plain_text(explanation)  # type: ignore[arg-type]


_plain_text.register("gradx.commands.check.model.CheckReport", _check_report_text)
_plain_text.register("gradx.commands.explain.model.Explanation", _explanation_text)


# ---- check: gradient checks from Python (imported lazily, see gradx.commands.check)


def check(fn, *inputs, **options):  # noqa: ANN001, ANN201 - documented in gradx.commands.check.api
    """Check autograd's gradients of ``fn`` at ``inputs`` against finite differences.

    Returns a CheckReport (``.ok``, ``.verdict``, ``print(report)``). Options: ``kwargs``,
    ``order``, ``dtype``, ``rtol``, ``atol``, ``seed``, ``samples``, ``method``, ``name``;
    see ``gradx.commands.check.api.check`` and docs/check.md.
    """
    from gradx.commands.check.api import check as run_check

    return run_check(fn, *inputs, **options)


def assert_gradients(fn, *inputs, **options):  # noqa: ANN001, ANN201 - see gradx.commands.check.api
    """Raise AssertionError with the readable report unless ``fn``'s gradients check out."""
    from gradx.commands.check.api import assert_gradients as run_assert

    return run_assert(fn, *inputs, **options)


# ---- explain-error: Python and notebook entry points (imported lazily, see gradx.commands.explain)


def explain(exc_or_text: object, *, lang: str | None = None):  # noqa: ANN201 - an Explanation
    """Explain an autograd error or warning: an exception, a warning, or pasted text.

    Returns an Explanation (``.recognised``, ``.findings``; ``print(explanation)`` shows it);
    ``lang`` is ``"en"`` or ``"zh"`` (default: from the locale). See docs/explain-error.md.
    """
    from gradx.commands.explain import explain as run_explain

    return run_explain(exc_or_text, lang=lang)


def install(*, lang: str | None = None) -> None:
    """Explain autograd errors under their traceback (adds a ``sys.excepthook``)."""
    from gradx.commands.explain import install as install_hook

    install_hook(lang=lang)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext gradx``: explain autograd errors under their traceback in IPython/Jupyter."""
    from gradx.commands.explain import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext gradx``: back to plain tracebacks."""
    from gradx.commands.explain import unload_ipython_extension as unload

    unload(ipython)
