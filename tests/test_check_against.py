"""``gradx check FILE::kernel --against FILE::reference`` and ``gradx.check(..., against=...)``.

A kernel is compared with a reference implementation on the same inputs: the reference in
float64 is the truth, the reference in the kernel's dtype sets the error budget.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import warnings
from functools import cache
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import gradx
from gradx.cli import app
from gradx.commands.check.reference_check import error_budget

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).parent / "check_scripts"
KERNELS = str(SCRIPTS / "kernels.py")
MORE = str(SCRIPTS / "kernels_more.py")
REFERENCE = f"{KERNELS}::fused_gelu_ref"

sys.path.insert(0, str(SCRIPTS))
import kernels  # noqa: E402
import kernels_more  # noqa: E402


@cache
def _run(*args: str):
    env = {"COLUMNS": "120", "TERM": "dumb", "NO_COLOR": None, "FORCE_COLOR": None}
    return CliRunner().invoke(app, ["check", *args], env=env)


def _entries_table(stdout: str) -> list[list[str]]:
    """Rows of the ranked table under a failure (output, input, kernel, ...)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("output"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _x_bf16() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    return (torch.randn(4, 8, generator=g, dtype=torch.float64) * 2).to(torch.bfloat16)


# ------------------------------------------------------------------ the bfloat16 kernel


def test_correct_bfloat16_kernel_passes_against_its_reference():
    result = _run(f"{KERNELS}::FusedGelu", "--against", REFERENCE, "--dtype", "bfloat16")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS      FusedGelu" in result.stdout
    assert "bfloat16 kernel against kernels.py::fused_gelu_ref in bfloat16 and float64" in (
        result.stdout
    )
    assert "vector-Jacobian products and the whole Jacobian" in result.stdout


def test_finite_differences_of_the_same_bfloat16_kernel_are_meaningless():
    # gradcheck's difference quotients in bfloat16: x ± eps rounds back to x (all zeros) or
    # to a neighbour 2^-7 away (noise), so a correct backward fails at every step size.
    x = _x_bf16().requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "input is not double precision"
        for eps in (1e-6, 1e-3, 1e-2):
            with pytest.raises(RuntimeError, match="Jacobian mismatch"):
                torch.autograd.gradcheck(
                    kernels.FusedGelu.apply, (x,), eps=eps, atol=1e-2, rtol=1e-2
                )
    # gradx refuses finite differences in bfloat16 and says what to do instead.
    result = _run(f"{KERNELS}::FusedGelu", "--dtype", "bfloat16")
    assert result.exit_code == 2
    assert "finite differences are noise in bfloat16" in result.stderr
    assert "--against" in result.stderr


def test_the_budget_is_per_tensor_so_a_correct_kernel_is_not_failed_element_by_element():
    # A correct kernel computing in bfloat16 in another order is as accurate as the reference
    # overall, but on some elements (where the reference happens to round well) it is further
    # from float64 than twice the reference's error there: a per-element rule fails it.
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 64, generator=g, dtype=torch.float64) * 2).to(torch.bfloat16)
    truth = kernels.fused_gelu_ref(x.double())
    low = kernels.fused_gelu_ref(x).double()
    kernel = kernels.Bfloat16Gelu.apply(x).double()
    assert int(((kernel - truth).abs() > 2 * (low - truth).abs()).sum()) > 100
    eps = torch.finfo(torch.bfloat16).eps
    bound, relative, absolute = error_budget(truth.flatten(), low.flatten(), eps)
    assert bool(((kernel - truth).abs().flatten() <= bound).all())
    assert relative >= eps and absolute > 0
    # The envelope covers every error of the reference itself.
    envelope = relative * truth.abs().flatten() + absolute
    assert bool(((low - truth).abs().flatten() <= envelope).all())
    report = gradx.check(kernels.Bfloat16Gelu, x, against=kernels.fused_gelu_ref)
    assert report.ok, str(report)
    assert report.targets[0].checks[0].method == "against reference, vector-jacobian products"


def test_a_budget_from_an_exact_reference_still_allows_one_rounding():
    truth = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64) / 3
    eps = torch.finfo(torch.bfloat16).eps
    exact = truth.clone()  # a reference that happens to be exact everywhere
    bound, relative, absolute = error_budget(truth, exact, eps)
    rounded = truth.to(torch.bfloat16).double()
    assert relative == eps and bool(((rounded - truth).abs() <= bound).all())
    assert bool(((1.01 * truth - truth).abs()[1:] <= bound[1:]).all())
    assert not bool(((1.1 * truth - truth).abs() <= bound).any())


def test_one_gradient_entry_off_by_ten_percent_fails_with_the_entry_located():
    result = _run(f"{KERNELS}::WrongEntryGelu", "--against", REFERENCE, "--dtype", "bfloat16")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "FAIL WrongEntryGelu" in result.stdout
    rows = _entries_table(result.stdout)
    assert rows[0][:2] == ["out[1, 2]", "x[1, 2]"]
    assert {tuple(r[:2]) for r in rows} == {("out[1, 2]", "x[1, 2]")}
    kernel, ref_low, ref64, error, budget = (float(v) for v in rows[0][2:7])
    assert abs(kernel - ref64) == pytest.approx(error, rel=0.05) and error > budget
    assert abs(ref_low - ref64) < budget


def test_a_sign_flip_fails_with_the_entry_and_the_cause():
    result = _run(f"{KERNELS}::SignFlipGelu", "--against", REFERENCE, "--dtype", "bfloat16")
    assert result.exit_code == 1
    assert "cause: sign error: kernel ≈ −float64 reference" in result.stdout
    rows = _entries_table(result.stdout)
    assert rows[0][:2] == ["out[2, 5]", "x[2, 5]"]
    assert float(rows[0][2]) == pytest.approx(-float(rows[0][4]), rel=0.02)


def test_the_report_is_also_json():
    args = (f"{KERNELS}::SignFlipGelu", "--against", REFERENCE, "--dtype", "bfloat16", "--json")
    result = _run(*args)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["settings"]["against"].endswith("kernels.py::fused_gelu_ref")
    assert doc["settings"]["dtype"] == "bfloat16" and doc["settings"]["device"] == "cpu"
    check = doc["targets"][0]["checks"][0]
    assert check["cause"]["id"] == "sign"
    entry = check["mismatches"][0]
    assert (entry["output_index"], entry["input_index"]) == ([2, 5], [2, 5])
    assert entry["reference"] == pytest.approx(entry["numeric"], rel=0.02)
    wrong = [b for b in check["budgets"] if b["mismatches"]]
    assert {b["quantity"] for b in wrong} == {"vjp 1 → x", "vjp 2 → x", "jacobian → x"}
    assert all(b["kernel_error"] > b["factor"] * b["reference_error"] for b in wrong)


# ------------------------------------------------------------------ float32, modules, files


def test_a_float32_kernel_with_one_entry_off_by_one_percent_fails():
    x = torch.linspace(-2, 2, 12)
    report = gradx.check(kernels_more.SinX, x, against=kernels_more.sin_x_ref)
    assert not report.ok
    check = report.targets[0].checks[0]
    assert check.inputs[0].dtype == "float32"
    worst = check.mismatches[0]
    assert (worst.output_index, worst.input_index) == ((7,), (7,))
    assert worst.autograd == pytest.approx(1.01 * worst.numeric, rel=1e-5)


def test_large_kernels_get_the_wrong_entry_located_by_bisection():
    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x) * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            d = torch.cos(x) * x + torch.sin(x)
            d[345] = d[345] * 1.01
            return grad * d

    x = torch.randn(1000, generator=torch.Generator().manual_seed(1))
    report = gradx.check(Wrong, x, against=kernels_more.sin_x_ref)
    check = report.targets[0].checks[0]
    assert not report.ok and check.method == "against reference, vector-jacobian products"
    assert (check.mismatches[0].output_index, check.mismatches[0].input_index) == ((345,), (345,))
    assert gradx.check(kernels.FusedGelu, x.bfloat16(), against=kernels.fused_gelu_ref).ok


def test_backward_ignoring_grad_output_and_missing_gradient_are_named():
    x = torch.linspace(-2, 2, 12)
    report = gradx.check(kernels_more.IgnoresGrad, x, against=kernels_more.sin_x_ref)
    assert report.targets[0].checks[0].cause.id == "ignores-grad-output"
    report = gradx.check(kernels_more.NoGrad, x, against=kernels_more.sin_x_ref)
    assert report.targets[0].checks[0].cause.id == "missing"


def test_modules_with_the_same_state_dict_share_their_parameters():
    result = _run(f"{MORE}::FusedScale", "--against", f"{MORE}::Scale", "--dtype", "bfloat16")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "x (6,) + 2 parameters" in result.stdout
    result = _run(f"{MORE}::WrongWeightScale", "--against", f"{MORE}::Scale", "--dtype", "float32")
    assert result.exit_code == 1
    rows = _entries_table(result.stdout)
    assert all(r[1].startswith("fc.weight[") for r in rows)
    assert "cause: sign error" in result.stdout


def test_module_against_a_function_compares_the_inputs_only():
    report = gradx.check(kernels_more.Scale(), torch.randn(6), against=lambda x: torch.tanh(x[:3]))
    check = report.targets[0].checks[0]
    assert [i.name for i in check.inputs] == ["x"]
    assert any("parameters are not compared" in str(n) for n in check.notes)


def test_a_reference_in_another_file_with_the_shape_option():
    args = (f"{MORE}::gelu_kernel", "--against", REFERENCE, "--dtype", "float16", "--shape", "50")
    result = _run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "x (50,)" in result.stdout and "float16 kernel against" in result.stdout


def test_the_same_seed_gives_the_same_inputs_to_both_and_samples_draw_new_ones():
    args = (f"{MORE}::gelu_kernel", "--against", REFERENCE, "--dtype", "bfloat16")
    args = (*args, "--shape", "7", "--samples", "3")
    doc = json.loads(_run(*args, "--json").stdout)
    checks = doc["targets"][0]["checks"]
    assert [c["sample"] for c in checks] == [0, 1, 2]
    assert all(c["verdict"] == "pass" for c in checks)


def test_different_output_shapes_are_an_error_not_a_pass():
    result = _run(f"{MORE}::wrong_shape", "--against", f"{MORE}::sin_x_ref", "--shape", "12")
    assert result.exit_code == 1
    assert "the kernel returns out (12, 1) but the reference returns out (12,)" in result.stdout


# ------------------------------------------------------------------ unusable input: exit 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((KERNELS, "--against", REFERENCE), "--against compares one kernel"),
        ((f"{KERNELS}::FusedGelu", "--against", KERNELS), "name the reference"),
        ((f"{KERNELS}::FusedGelu", "--against", "nope.py::f"), "no such file: nope.py"),
        ((f"{KERNELS}::FusedGelu", "--against", f"{KERNELS}::nothing"), "no target named"),
        ((f"{KERNELS}::FusedGelu", "--against", REFERENCE, "--order", "2"), "first derivatives"),
        (
            (f"{KERNELS}::FusedGelu", "--against", REFERENCE, "--dtype", "int8"),
            "'int8' is not one of",
        ),
        ((f"{KERNELS}::FusedGelu", "--device", "tpu"), "--device tpu: use cpu, cuda"),
    ],
)
def test_unusable_options_exit_2_with_one_line(args, message):
    result = _run(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_when_not_available_is_one_line_and_exit_2():
    for args in (
        (f"{KERNELS}::fused_gelu_ref",),
        (f"{KERNELS}::FusedGelu", "--against", REFERENCE),
    ):
        result = _run(*args, "--device", "cuda")
        assert result.exit_code == 2
        assert "--device cuda: CUDA is not available here" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="device cuda: CUDA is not available"):
        gradx.check(kernels.fused_gelu_ref, device="cuda")


def test_device_cpu_is_accepted_by_every_mode():
    result = _run(f"{KERNELS}::fused_gelu_ref", "--device", "cpu")
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_runs_the_kernel_on_the_gpu():  # pragma: no cover - CPU-only CI
    result = _run(
        f"{KERNELS}::FusedGelu", "--against", REFERENCE, "--dtype", "bfloat16", "--device", "cuda"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "on cuda" in result.stdout
    result = _run(f"{KERNELS}::WrongEntryGelu", "--against", REFERENCE, "--device", "cuda")
    assert result.exit_code == 1
    result = _run(f"{KERNELS}::fused_gelu_ref", "--device", "cuda")
    assert result.exit_code == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ docs/check.md


DOC_BLOCK = re.compile(r"```console\n\$ (gradx check [^\n]*--against[^\n]*)\n(.*?)```", re.DOTALL)
SECONDS = re.compile(r"\(\d+\.\d s\)")


def _doc_examples():
    return DOC_BLOCK.findall((ROOT / "docs" / "check.md").read_text(encoding="utf-8"))


def test_the_docs_have_an_against_example_in_bfloat16():
    assert any("--dtype bfloat16" in command for command, _ in _doc_examples())


@pytest.mark.parametrize(("command", "shown"), _doc_examples(), ids=lambda v: v[:60])
def test_docs_against_example_prints_what_it_shows(run_cli, monkeypatch, command, shown):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(ROOT)
    result = run_cli(*shlex.split(command)[1:])
    printed = "\n".join(line.rstrip() for line in result.stdout.splitlines())
    assert SECONDS.sub("(… s)", printed.strip("\n")) == SECONDS.sub("(… s)", shown.strip("\n"))


# ------------------------------------------------------------------ the device bridge


def test_the_device_bridge_gives_the_same_verdicts_and_causes():
    # "cpu:0" is a device string that is not "cpu": the code takes the path that --device cuda
    # takes (inputs moved for each call, a copy of the module moved, outputs moved back).
    from gradx.commands.check.model import Settings
    from gradx.commands.check.reference_check import check_against
    from gradx.commands.check.session import check_target
    from gradx.user_script.spec import InputSpec
    from gradx.user_script.targets import find_targets, load_module

    found = find_targets(load_module(SCRIPTS / "wrong_functions.py"))
    for target in found.targets:
        here = check_target(target, InputSpec(), Settings())
        there = check_target(target, InputSpec(), Settings(device="cpu:0"))
        assert there.verdict == here.verdict and there.error is None, target.name
        assert there.checks[0].cause == here.checks[0].cause
    more = {t.name: t for t in find_targets(load_module(SCRIPTS / "kernels_more.py")).targets}
    settings = Settings(dtype="bfloat16", rtol=0.0, atol=0.0, against="Scale", device="cpu:0")
    result = check_against(more["FusedScale"], more["Scale"], InputSpec(), settings)
    assert result.verdict.value == "pass", result
    assert "compared on cpu:0" in str(result.checks[0].notes[-1])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_known_causes_are_named_against_the_float64_reference(dtype):
    import wrong_functions as wf

    w = torch.tensor([[0.5, -1.25, 2.0], [0.75, 1.5, -0.5], [-1.0, 0.25, 1.75]])
    x = torch.tensor([0.3, -0.7, 1.1])
    a, b = torch.tensor([0.5, -1.5]), torch.tensor([1.25, 0.75])
    cases = [
        (wf.Transposed, (w, x), lambda w, x: w @ x, "transposed", "kernel[i, j] ≈ float64"),
        (wf.Swapped, (a, b), lambda a, b: a * b**2, "swapped", "the kernel's gradient for a"),
        (wf.SignError, (x,), lambda x: x**3, "sign", "kernel ≈ −float64 reference"),
        (wf.MissingFactor, (x,), lambda x: x**3, "factor", "kernel = 0.33"),
        (wf.IgnoresGradOutput, (x,), torch.sin, "ignores-grad-output", "grad_output"),
    ]
    for kernel, inputs, reference, cause, words in cases:
        report = gradx.check(kernel, *inputs, against=reference, dtype=dtype)
        check = report.targets[0].checks[0]
        assert not report.ok and check.cause is not None, kernel.__name__
        assert check.cause.id == cause and words in str(check.cause.text), check.cause
        assert "numeric" not in str(check.cause.text) and "autograd" not in str(check.cause.text)


@given(st.text(max_size=40))
def test_any_device_text_is_a_device_or_a_clean_error(text):
    from gradx.commands.check.device import parse_device
    from gradx.errors import GradxError

    try:
        name = parse_device(text)
    except GradxError as error:
        assert error.message.startswith("--device ") and "\n" not in error.message.strip()
    else:
        assert re.fullmatch(r"cpu|mps|cuda(:\d+)?", name)


def test_the_api_draws_seeded_inputs_and_validates_its_arguments():
    report = gradx.check(kernels.FusedGelu, against=kernels.fused_gelu_ref, dtype="bfloat16")
    assert report.ok and report.targets[0].inputs[0].shape == (4, 8)  # example_FusedGelu
    assert report.settings.against == "fused_gelu_ref" and report.settings.dtype == "bfloat16"
    assert "kernel against fused_gelu_ref in bfloat16 and float64" in str(report)
    with pytest.raises(ValueError, match="dtype must be one of"):
        gradx.check(kernels.FusedGelu, against=kernels.fused_gelu_ref, dtype="int8")
    with pytest.raises(TypeError, match="against must be"):
        gradx.check(kernels.FusedGelu, against=3)
    with pytest.raises(AssertionError, match="sign error"):
        gradx.assert_gradients(kernels.SignFlipGelu, _x_bf16(), against=kernels.fused_gelu_ref)
