"""Golden tests for ``gradx check``, ``gradx explain-error`` and ``gradx graph``: what a user
sees, byte for byte, at a fixed width (120 columns, no colour; see conftest.py).

Run times ("(1.8 s)") are replaced by "(T s)"; nothing else is normalised. To accept new output
after a deliberate change: ``GRADX_UPDATE_GOLDEN=1 pytest tests/test_golden_outputs.py`` (changed
cases fail once, having rewritten their files), review the diff of tests/golden/, run again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHECK = HERE / "check_scripts"

TRACEBACK = """Traceback (most recent call last):
  File "train.py", line 14, in <module>
    loss.backward()
RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
"""

CASES: dict[str, tuple[tuple[str, ...], str | None, int]] = {
    # name: (arguments, standard input, exit code)
    "check_wrong_functions": (("check", "wrong_functions.py"), None, 1),
    "check_kinks": (("check", "kinks.py"), None, 0),
    "check_second_order": (("check", "second_order.py", "--order", "2"), None, 1),
    "explain_catalog_id": (("explain-error", "backward-twice"), None, 0),
    "explain_pasted_traceback": (("explain-error",), TRACEBACK, 0),
    "explain_not_recognised": (("explain-error", "ValueError: bad shape"), None, 1),
    "graph_expression": (("graph", "2*x*x", "--at", "x=0,1,2,3"), None, 0),
    "graph_two_variables": (("graph", "sin(x)*exp(y)", "--at", "x=1,y=2"), None, 0),
    "graph_detached_script": (("graph", "detach_bugs.py::detach_bug"), None, 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(run_cli, golden, monkeypatch, name):
    args, stdin, code = CASES[name]
    monkeypatch.chdir(CHECK)  # file names print as given: relative, the same on every machine
    result = run_cli(*args, input=stdin)
    assert result.exit_code == code, result.stdout + result.stderr
    golden(name, re.sub(r"\(\d+\.\d s\)", "(T s)", result.stdout))
