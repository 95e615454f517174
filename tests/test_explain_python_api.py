"""Python and notebook use: ``gradx.explain()``, ``gradx.install()`` and ``%load_ext gradx``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import gradx
from gradx.commands.explain import Explanation

ROOT = Path(__file__).resolve().parents[1]


def test_explain_text_id_and_warning_objects():
    from_text = gradx.explain(
        "RuntimeError: cannot register a hook on a tensor that doesn't require gradient"
    )
    assert isinstance(from_text, Explanation) and from_text.entry_id == "hook-without-requires-grad"
    from_id = gradx.explain("detach-view-in-place")
    assert from_id.source == "id" and from_id.title == "detach_() on a view"
    message = warnings.WarningMessage(
        UserWarning("None of the inputs have requires_grad=True. Gradients will be None"),
        UserWarning,
        "train.py",
        3,
    )
    assert gradx.explain(message).entry_id == "checkpoint-no-input-requires-grad"
    assert (
        gradx.explain(
            UserWarning(
                "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone()"
            )
        ).entry_id
        == "tensor-copy-construct"
    )
    assert (
        gradx.explain(b"grad can be implicitly created only for scalar outputs").entry_id
        == "non-scalar-backward"
    )
    unknown = gradx.explain("ValueError: something else")
    assert not unknown.recognised and unknown.entry_id is None and unknown.advice


def test_explain_refuses_other_objects():
    with pytest.raises(TypeError, match="not int"):
        gradx.explain(42)


def test_an_explanation_prints_as_plain_text():
    text = str(gradx.explain("backward-twice", lang="zh"))
    assert text.startswith("错误  backward-twice  第二次对同一计算图做反向传播")
    assert "\x1b[" not in text  # no colour codes


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_install_appends_the_explanation_to_autograd_errors_only():
    result = _run_python(
        """
        import gradx, torch
        gradx.install()
        w = torch.ones(3, requires_grad=True)
        w += 1
        """
    )
    assert result.returncode == 1
    err = result.stderr
    assert err.index("Traceback (most recent call last)") < err.index(
        "RuntimeError: a leaf Variable"
    )
    assert err.index("RuntimeError: a leaf Variable") < err.index("error  leaf-in-place")
    assert "In-place operation on a leaf tensor that requires grad" in err
    assert "<string>:5 in <module>" in err
    other = _run_python(
        """
        import gradx
        gradx.install()
        raise ValueError("not an autograd error")
        """
    )
    assert other.returncode == 1
    assert "ValueError: not an autograd error" in other.stderr
    assert "What happened" not in other.stderr


def test_install_twice_and_uninstall():
    previous = sys.excepthook
    try:
        gradx.install()
        hook = sys.excepthook
        gradx.install()
        assert sys.excepthook is hook and hook is not previous
        gradx.commands.explain.uninstall()
        assert sys.excepthook is previous
    finally:
        sys.excepthook = previous


class FakeIPython:
    """The two methods of IPython's InteractiveShell that the extension uses."""

    def __init__(self) -> None:
        self.handler = None
        self.exceptions: tuple = ()
        self.shown: list = []

    def set_custom_exc(self, exceptions, handler):
        self.exceptions, self.handler = exceptions, handler

    def showtraceback(self, exc_tuple, tb_offset=None):
        self.shown.append(exc_tuple[1])

    def run_cell_that_raises(self, exc: BaseException) -> None:
        # IPython binds the handler as a method of the shell.
        self.handler(self, type(exc), exc, exc.__traceback__, tb_offset=None)


def test_load_ext_explains_autograd_errors_under_the_traceback(capsys):
    import torch

    shell = FakeIPython()
    gradx.load_ipython_extension(shell)
    assert shell.exceptions == (Exception,)
    try:
        torch.ones(2).retain_grad()
    except RuntimeError as exc:
        shell.run_cell_that_raises(exc)
    assert len(shell.shown) == 1  # IPython's own traceback is still shown
    assert "retain-grad-no-requires-grad" in capsys.readouterr().err
    try:
        raise KeyError("plain")
    except KeyError as exc:
        shell.run_cell_that_raises(exc)
    assert capsys.readouterr().err == ""
    gradx.unload_ipython_extension(shell)
    assert shell.exceptions == () and shell.handler is None


def test_importing_gradx_and_its_explain_package_stays_light():
    result = _run_python(
        """
        import sys, gradx
        import gradx.commands.explain  # the package behind gradx.explain: no torch, sympy or rich
        print(sorted(m for m in ("torch", "sympy", "rich") if m in sys.modules))
        """
    )
    assert result.stdout.strip() == "[]", result.stderr
