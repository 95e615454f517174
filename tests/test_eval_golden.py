"""Golden tests: the rendered ``gradx eval`` output, byte for byte, at a fixed width.

To accept new output after a deliberate change: ``GRADX_UPDATE_GOLDEN=1 pytest tests/test_eval_golden.py``
(the changed cases fail once, having rewritten their files), review the diff of tests/golden/, and
run again without it.
"""

from __future__ import annotations

import pytest

from conftest import compare_golden

CASES = {
    "eval_sin_range": ["sin(x)", "--range", "-6.28:6.28"],
    "eval_kinks": ["abs(x) + relu(x)", "--at", "0", "--at", "1", "--at", "x=-0.5"],
    "eval_domain_and_mismatch": [
        "sqrt(x**2) + log(x + 1)",
        "--at",
        "x=0",
        "--at",
        "x=-2",
        "--at",
        "x=1",
    ],
    "eval_hessian": ["x**2*y + sin(y)", "--at", "x=1,y=2", "--order", "2"],
    "eval_long_range": ["abs(x - 0.5)", "--range", "0:1", "--steps", "1001"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_output_matches_golden(run_cli, golden, name):
    result = run_cli("eval", *CASES[name])
    assert result.exit_code in (0, 1), result.stderr
    golden(name, result.stdout)


def test_update_mode_rewrites_a_changed_file_and_still_fails(tmp_path):
    path = tmp_path / "case.txt"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="rewrote"):
        compare_golden(path, "new\n", update=True)
    assert path.read_text(encoding="utf-8") == "new\n"
    compare_golden(path, "new\n", update=True)  # unchanged output passes, having been compared
    with pytest.raises(AssertionError):
        compare_golden(path, "newer\n", update=False)
    assert path.read_text(encoding="utf-8") == "new\n"


# The same reports on narrower terminals: columns are left out, then points become blocks,
# but a number is never split across lines.
NARROW = {
    "eval_hessian": ["x**2*y + sin(y)", "--at", "x=1,y=2", "--order", "2"],
    "eval_tiny_numbers": ["sin(x)", "--at", "x=2*pi", "--at", "1e-300", "--at", "-1.5"],
    "eval_kinks": CASES["eval_kinks"],
}


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("name", sorted(NARROW))
def test_rendered_output_matches_golden_at_each_width(run_cli, golden, monkeypatch, name, width):
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli("eval", *NARROW[name])
    assert result.exit_code in (0, 1), result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    golden(f"{name}_w{width}", result.stdout)
