"""``gradx explain-error --run script.py``: real scripts under tests/explain_scripts/.

Each script makes torch fail the way a learner's script does; the test checks the entry gradx
names, the line it points at, the cause it picks, and (where anomaly detection helps) the
forward line it finds by running the script a second time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).with_name("explain_scripts")

pytestmark = pytest.mark.slow  # each case starts Python and imports torch, once or twice


def run_json(run_cli, script: str, *args: str) -> tuple[int, dict]:
    result = run_cli("explain-error", "--json", "--run", str(SCRIPTS / script), *args)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def line_of(script: str, text: str) -> int:
    lines = (SCRIPTS / script).read_text(encoding="utf-8").splitlines()
    # Line 1 is each script's docstring, which may quote the code.
    return next(number for number, line in enumerate(lines, 1) if number > 1 and text in line)


# script, entry, failing line, cause that applies, line of its evidence (None: no line)
CASES = [
    ("no_grad_block.py", "no-grad-fn", "loss.backward()", "no-grad-block", "with torch.no_grad():"),
    ("detached.py", "no-grad-fn", "loss.backward()", "detached", ".detach()"),
    ("item_roundtrip.py", "no-grad-fn", "loss.backward()", "item-or-numpy", ".item()"),
    ("frozen.py", "no-grad-fn", "loss.backward()", "no-requires-grad", "p.requires_grad = False"),
    (
        "integer_tensor.py",
        "int-requires-grad",
        "torch.tensor([1, 2, 3]",
        "integer-literal",
        "torch.tensor([1, 2, 3]",
    ),
    (
        "leaf_in_place.py",
        "leaf-in-place",
        "w -= 0.1 * w.grad",
        "manual-update",
        "w -= 0.1 * w.grad",
    ),
    ("view_of_leaf.py", "view-of-leaf-in-place", "w[0] = 0.0", "item-assignment", "w[0] = 0.0"),
    (
        "non_scalar.py",
        "non-scalar-backward",
        "loss.backward()",
        "reduction-none",
        'reduction="none"',
    ),
    ("numpy_requires_grad.py", "numpy-requires-grad", ".numpy()", "explicit-numpy", ".numpy()"),
    (
        "backward_twice.py",
        "backward-twice",
        "loss.backward()",
        "state-across-iterations",
        "h = cell(x, h)",
    ),
    ("modified_in_place.py", "modified-in-place", "loss.backward()", "in-place-op", "y.mul_(3)"),
    (
        "in_place_relu.py",
        "modified-in-place",
        "loss.backward()",
        "in-place-module",
        "out = self.act(h)",
    ),
]


@pytest.mark.parametrize(
    ("script", "entry", "failing", "cause", "evidence"), CASES, ids=[c[0] for c in CASES]
)
def test_run_names_the_error_the_line_and_the_cause(
    run_cli, script, entry, failing, cause, evidence
):
    code, document = run_json(run_cli, script)
    assert code == 0
    finding = document["findings"][0]
    assert finding["id"] == entry
    assert finding["where"]["file"] == str(SCRIPTS / script)
    assert finding["where"]["line"] == line_of(script, failing)
    applying = {c["id"]: c["evidence"] for c in finding["causes"] if c["applies"]}
    assert list(applying) == [cause]
    assert applying[cause]["line"] == line_of(script, evidence)
    assert document["run"]["outcome"] == "error"


def test_anomaly_rerun_names_the_forward_line_whose_saved_tensor_was_modified(run_cli):
    _code, document = run_json(run_cli, "modified_in_place.py")
    finding = document["findings"][0]
    assert document["run"]["anomaly_rerun"] is True
    assert finding["forward"]["line"] == line_of("modified_in_place.py", "y = torch.sigmoid(x)")
    assert finding["forward"]["source"] == "y = torch.sigmoid(x)"


def test_anomaly_rerun_finds_the_forward_line_inside_a_module(run_cli):
    _code, document = run_json(run_cli, "in_place_relu.py")
    forward = document["findings"][0]["forward"]
    assert forward["line"] == line_of("in_place_relu.py", "h = torch.sigmoid(self.linear(x))")
    assert forward["function"] == "forward"


def test_nan_gradients_are_traced_to_the_forward_operation(run_cli):
    code, document = run_json(run_cli, "nan_gradient.py")
    assert code == 0
    finding = document["findings"][0]
    assert finding["id"] == "anomaly-nan"
    assert finding["message"].startswith(
        "RuntimeError: Function 'SqrtBackward0' returned nan values"
    )
    assert finding["forward"]["line"] == line_of("nan_gradient.py", "distance = points.pow(2)")
    assert document["run"]["anomaly_rerun"] is True


def test_no_rerun_keeps_a_single_run(run_cli):
    _code, document = run_json(run_cli, "modified_in_place.py", "--no-rerun")
    assert document["run"]["anomaly_rerun"] is False
    assert document["findings"][0]["forward"] is None


def test_a_warning_is_caught_and_explained(run_cli):
    code, document = run_json(run_cli, "non_leaf_grad.py")
    assert code == 0
    (finding,) = document["findings"]
    assert finding["id"] == "non-leaf-grad-access" and finding["kind"] == "warning"
    assert finding["where"]["line"] == line_of("non_leaf_grad.py", 'print("gradient:", x.grad)')
    applying = [c for c in finding["causes"] if c["applies"]]
    assert [c["id"] for c in applying] == ["moved-leaf"]
    assert document["run"]["outcome"] == "finished"


def test_the_create_graph_warning_is_caught(run_cli):
    code, document = run_json(run_cli, "create_graph.py")
    assert code == 0
    assert [f["id"] for f in document["findings"]] == ["create-graph-reference-cycle"]


def test_a_script_without_autograd_error_exits_1_and_says_so(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "no_autograd_error.py"))
    assert result.exit_code == 1
    assert (
        "no_autograd_error.py ran to the end without an autograd error or warning (exit status 0)."
        in " ".join(result.stdout.split())
    )


def test_a_non_autograd_error_is_shown_with_its_line_but_not_explained(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "other_error.py"))
    assert result.exit_code == 1
    out = result.stdout
    assert "raised an error that is not an autograd error gradx knows" in " ".join(out.split())
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)" in out
    assert "7 │ c = a @ b" in out


def test_script_arguments_are_passed_through(run_cli):
    _code, once = run_json(run_cli, "with_arguments.py", "2")
    assert once["findings"] == [] and once["run"]["outcome"] == "finished"
    code, twice = run_json(run_cli, "with_arguments.py", "--mode", "twice", "2")
    assert code == 0
    finding = twice["findings"][0]
    assert finding["id"] == "backward-twice"
    assert twice["run"]["args"] == ["--mode", "twice", "2"]
    applying = [c["id"] for c in finding["causes"] if c["applies"]]
    assert applying == ["computed-outside-loop"]


def test_a_script_waiting_for_input_does_not_hang(run_cli):
    code, document = run_json(run_cli, "reads_stdin.py")
    assert code == 1
    assert document["run"]["exception"] == "EOFError: EOF when reading a line"


def test_a_script_that_never_ends_is_stopped(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "never_ends.py"), "--timeout", "2")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1  # one red line, however it was stopped
    assert lines[0].startswith("error: ") and "never_ends.py did not finish within 2 s" in lines[0]
    assert lines[0].endswith("and was stopped; raise the limit with --timeout SECONDS")


def test_run_output_for_people_shows_the_users_frame_and_hides_library_frames(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "no_grad_block.py"))
    assert result.exit_code == 0
    out = result.stdout
    assert (
        f"{SCRIPTS / 'no_grad_block.py'}:11 in <module>" in out
        or "no_grad_block.py:11 in <module>" in out
    )
    assert "11 │ loss.backward()" in out
    assert "library frame(s) hidden" in out
    assert "✔ The loss is computed inside torch.no_grad()" in out
    assert "8 │ with torch.no_grad():" in out


def test_run_in_chinese(run_cli):
    result = run_cli("explain-error", "--lang", "zh", "--run", str(SCRIPTS / "view_of_leaf.py"))
    assert result.exit_code == 0
    assert "原地修改需要梯度的叶子张量的视图（切片）" in result.stdout
    assert "✔ 对叶子的元素或切片赋值（w[i] = …）。" in result.stdout


def test_the_readme_example_shows_real_output(run_cli, monkeypatch):
    """Every line of the README's --run example (apart from the […] cut markers) is printed, in order."""
    root = SCRIPTS.parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("<!-- section: explain-error -->") :]
    command = "$ gradx explain-error --run tests/explain_scripts/modified_in_place.py\n"
    block = section[section.index(command) + len(command) :]
    shown = block[: block.index("```")].splitlines()
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "100")
    result = run_cli("explain-error", "--run", "tests/explain_scripts/modified_in_place.py")
    assert result.exit_code == 0
    real = iter(result.stdout.splitlines())
    for line in shown:
        if line.startswith("[…"):  # a cut marker
            continue
        assert line in real, f"README line not in the real output (in order): {line!r}"


def test_gradcheck_on_float32_reports_the_warning_as_the_cause_of_the_mismatch(run_cli):
    code, document = run_json(run_cli, "gradcheck_float32.py")
    assert code == 0
    mismatch, warning = document["findings"]
    assert (mismatch["id"], warning["id"]) == (
        "gradcheck-jacobian-mismatch",
        "gradcheck-not-double",
    )
    assert [c["id"] for c in mismatch["causes"] if c["applies"]] == ["low-precision"]
    line = line_of("gradcheck_float32.py", "torch.autograd.gradcheck(")
    assert mismatch["where"]["line"] == warning["where"]["line"] == line


def test_the_scripts_own_output_is_shown(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "no_autograd_error.py"))
    assert "no_autograd_error.py printed:\n  ok True\n" in result.stdout
    code, document = run_json(run_cli, "no_autograd_error.py")
    assert document["run"]["printed"] == ["ok True"]


def test_a_clean_run_gets_no_advice_about_a_traceback_it_does_not_have(run_cli):
    result = run_cli("explain-error", "--run", str(SCRIPTS / "no_autograd_error.py"))
    assert "ran to the end without an autograd error" in result.stdout
    assert "Read the last line of the traceback" not in result.stdout
    assert "last frame that is your own file" not in result.stdout
    assert "General advice" in result.stdout


def test_gradients_that_silently_accumulate_are_pointed_out(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("explain-error", "--run", str(SCRIPTS / "grad_accumulates.py"))
    out = result.stdout
    assert "  tensor([ 0.,  4.,  8., 12.])\n  tensor([ 1.,  5.,  9., 13.])\n" in out
    assert (
        "But gradients accumulate: backward() at line 10 adds to the .grad that backward() at line 7 left"
        in out
    )
    assert "x.grad.zero_()" in out
    assert "General advice" not in out
    code, document = run_json(run_cli, "grad_accumulates.py")
    assert document["run"]["gradient_accumulation"] == {"first_line": 7, "second_line": 10}


def test_a_syntax_error_is_unusable_input_as_under_check(run_cli, tmp_path):
    script = tmp_path / "syntax_error.py"
    script.write_text("import torch\nx = torch.ones(2, requires_grad=True)\nif x.sum() > 0\n")
    script = str(script)
    explained = run_cli("explain-error", "--run", script)
    checked = run_cli("check", script)
    assert explained.exit_code == checked.exit_code == 2
    assert (
        explained.stderr.splitlines()[0] == "error: syntax error in syntax_error.py:3: expected ':'"
    )
    assert explained.stderr == checked.stderr
    assert explained.stdout == ""
