"""Check one target in this process: inputs per sample → Problem → comparisons → TargetResult.

Used by the worker process (one target at a time, under the parent's time limit) and by the
Python API. Whatever the user's code raises becomes an ``error`` result naming the user's own
line; nothing escapes except KeyboardInterrupt.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from gradx.commands.check.device import on_device
from gradx.commands.check.engine import (
    NonFiniteOutput,
    check_output_is_usable,
    check_problem,
    dtype_name,
    second_order_problem,
)
from gradx.commands.check.model import (
    ErrorInfo,
    GradCheck,
    InputInfo,
    Settings,
    TargetResult,
    Verdict,
    worst_verdict,
)
from gradx.commands.check.problem import Problem, TargetFailure, problem_from_inputs
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import PATH_TOLERANCES, Tolerance, check_tolerance_for
from gradx.translations import LANGUAGES, Phrase, phrase
from gradx.user_script.inputs import (
    DEFAULT_SHAPES,
    InputError,
    Inputs,
    describe_value,
    make_inputs,
)
from gradx.user_script.spec import InputSpec
from gradx.user_script.targets import Target, one_line


def check_target(target: Target, spec: InputSpec, settings: Settings) -> TargetResult:
    """Check ``target`` on ``settings.samples`` input draws, to ``settings.order``."""

    def make(sample: int, positive: bool, shape: tuple[int, ...] = ()) -> Inputs:
        inputs = make_inputs(
            target,
            spec,
            seed=settings.seed,
            sample=sample,
            dtype=DType.parse(settings.dtype).torch,
            positive=positive,
            default_shape=shape,
        )
        return on_device(inputs, settings.device)

    samples = settings.samples
    fixed = all(spec.values_for(name) is not None for name in target.tensor_params)
    if target.example is not None and not _example_takes_generator(target) and not spec.names():
        fixed = True
    note = None
    if fixed and samples > 1:
        samples = 1  # fixed inputs are the same in every draw
        note = phrase(
            "the inputs are fixed (--at, or an example without a generator): checked once"
        )
    result = check_with(
        make,
        target.name,
        target.kind,
        target.line,
        settings,
        file=target.file,
        samples=samples,
    )
    if note and result.checks:
        from dataclasses import replace

        result = replace(result, checks=(_with_notes(result.checks[0], [note]), *result.checks[1:]))
    return result


def check_with(
    make: Callable[[int, bool], Inputs],
    name: str,
    kind: str,
    line: int | None,
    settings: Settings,
    *,
    file: str | None = None,
    samples: int | None = None,
) -> TargetResult:
    """Run the checks on inputs from ``make(sample, positive, shape)``: one TargetResult.

    ``shape`` is the default shape of tensors drawn at random; the shapes of ``DEFAULT_SHAPES``
    are tried in turn until the function accepts them.
    """
    start = time.perf_counter()
    tol = check_tolerance_for(settings.dtype, settings.rtol, settings.atol)
    method = Method.parse(settings.method)
    checks: list[GradCheck] = []
    inputs: Inputs | None = None
    first_inputs: Inputs | None = None
    try:
        for sample in range(samples if samples is not None else settings.samples):
            inputs, problem, shape_notes = _usable_problem(make, sample)
            if sample == 0:
                first_inputs = inputs  # after a positive redraw: what was checked
            at = tuple(
                (n, describe_value(t)) for n, t in zip(inputs.names, inputs.tensors, strict=True)
            )
            if problem.n == 0 or problem.m == 0:
                checks.append(_empty_check(problem, sample, at, [*inputs.notes]))
                continue
            used = _tolerance_for(problem, tol)
            first = check_problem(
                problem, used, order=1, sample=sample, seed=settings.seed, at=at, method=method
            )
            first = _with_notes(first, [*shape_notes, *problem.notes, *inputs.notes])
            if first.verdict is Verdict.FAIL and kind != "autograd.Function":
                first = _blame_cut(first, inputs, file)
            checks.append(first)
            if settings.order >= 2:
                if problem.is_complex or problem.has_fixed_elements:
                    said = (
                        phrase("second order not checked: not supported with complex values")
                        if problem.is_complex
                        else phrase(
                            "second order not checked: not supported with non-finite inputs"
                        )
                    )
                    checks[-1] = _with_notes(checks[-1], [said])
                    continue
                second = second_order_problem(problem, settings.seed, sample)
                checks.append(
                    check_problem(
                        second,
                        used,
                        order=2,
                        sample=sample,
                        seed=settings.seed,
                        at=at,
                        method=method,
                    )
                )
    except KeyboardInterrupt:
        raise
    except (TargetFailure, InputError) as exc:
        return _result(name, kind, line, checks, start, ErrorInfo("", str(exc)))
    except MemoryError:
        return _result(name, kind, line, checks, start, ErrorInfo("MemoryError", "out of memory"))
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything
        inputs = getattr(exc, "gradx_inputs", None) or inputs  # the draw that was rejected
        info = error_info(exc, file)
        if info.location is None and inputs is not None:
            info = _locate_in_forward(info, inputs, file)
        if inputs is not None and inputs.random and not checks:
            from dataclasses import replace

            tried = getattr(exc, "gradx_shapes_tried", "")
            info = replace(info, inputs_hint=_inputs_hint(inputs, name, tried))
        return _result(name, kind, line, checks, start, info)
    result = _result(name, kind, line, checks, start, None)
    if first_inputs is not None:
        from dataclasses import replace

        result = replace(result, values=input_values(first_inputs))
    return result


MAX_VALUES = 64  # input elements in all, beyond which no values are kept


def input_values(inputs: Inputs) -> tuple:
    """Each differentiated input of ``inputs`` with the gradient autograd gives it (of
    ``output.sum()`` for a non-scalar output); () when they are large or the call fails."""
    from gradx.commands.check.model import InputValues

    if sum(t.numel() for t in inputs.tensors) > MAX_VALUES:
        return ()
    if any(t.is_complex() for t in inputs.tensors):
        return ()  # the values view shows real numbers; complex parts are in the entry table
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs.tensors]
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            outputs = [
                o
                for o in _tensors(inputs.call(leaves))
                if o.requires_grad and o.is_floating_point()
            ]
            if not outputs:
                return ()
            total = sum(o.sum() for o in outputs)
            grads = torch.autograd.grad(total, leaves, allow_unused=True)
    except Exception:  # noqa: BLE001 - values are extra information; the check stands without
        return ()
    several = sum(o.numel() for o in outputs) > 1
    return tuple(
        InputValues(
            name=name,
            shape=tuple(int(n) for n in leaf.shape),
            values=tuple(float(v) for v in leaf.detach().flatten().tolist()),
            grad=None if grad is None else tuple(float(v) for v in grad.flatten().tolist()),
            of_sum=several,
        )
        for name, leaf, grad in zip(inputs.names, leaves, grads, strict=True)
    )


def _tensors(value: object) -> list:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _inputs_hint(inputs: Inputs, name: str, shapes_tried: str = "") -> Phrase | None:
    """Which inputs gradx drew when a target rejected them, and how to give better ones."""
    drawn = [
        (n, tuple(t.shape))
        for n, t, kind in zip(inputs.names, inputs.tensors, inputs.kinds, strict=True)
        if kind == "input"
    ]
    if not drawn:
        return None
    tried = ", ".join(f"{n} {_shape_words(shape)}" for n, shape in drawn)
    example = " ".join(
        f"--shape {n}=3" + (",4" if i == 0 and len(drawn) > 1 else "")
        for i, (n, _) in enumerate(drawn)
    )
    if shapes_tried:
        return phrase(
            "gradx tried random inputs of the shapes {shapes} in turn (the last: {tried}); if "
            "{name} needs other shapes, give them (--shape, as in {example}, or --at) or "
            "define example_{name}() in the file returning the inputs",
            shapes=shapes_tried,
            tried=tried,
            name=name,
            example=example,
        )
    return phrase(
        "gradx tried random inputs {tried}; if {name} needs other shapes, give them (--shape, "
        "as in {example}, or --at) or define example_{name}() in the file returning the inputs",
        tried=tried,
        name=name,
        example=example,
    )


def _shape_words(shape: tuple[int, ...]) -> str:
    if not shape:
        return "() (a scalar)"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _blame_cut(check: GradCheck, inputs: Inputs, file: str | None) -> GradCheck:
    """Name a .detach()/.data cut of an input as the cause, where the forward makes one.

    Without a custom backward, autograd's own formulas are right: a gradient that misses part
    of what the finite differences see comes from the forward cutting the graph. The cut is
    found by running the forward once more under ``CutWatcher`` (shared with gradx graph).
    """
    from dataclasses import replace

    from gradx.commands.check.causes import cut_cause
    from gradx.user_script.cuts import CutWatcher

    if check.cause is not None and check.cause.id in ("nan", "ignores-grad-output"):
        return check
    source = file or _code_file(inputs.fn)
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs.tensors]
    watcher = CutWatcher(source)
    try:
        with watcher, torch.enable_grad():
            inputs.call(leaves)
    except Exception:  # noqa: BLE001 - it ran before; if not now, keep the cause found
        return check
    for cut in watcher.cuts:
        if cut.kind not in ("detach", "data", "item", "tolist", "numpy"):
            continue
        names = [
            name
            for name, leaf in zip(inputs.names, leaves, strict=True)
            if any(t is leaf for t in cut.leaves)
        ]
        if names:
            return replace(check, cause=cut_cause(cut.kind, cut.location, cut.code, names))
    return check


def _code_file(fn) -> str | None:
    target = fn.forward if isinstance(fn, torch.nn.Module) else fn
    code = getattr(target, "__code__", None)
    return code.co_filename if code is not None else None


def _usable_problem(make, sample: int) -> tuple[Inputs, Problem, list[Phrase]]:
    """The inputs of this sample and their Problem, trying the default shapes in turn.

    A function that rejects random inputs of the default shape (5,) gets (2, 3), then a
    scalar; the report notes it. When every shape fails, the failure with a scalar is raised,
    with the shapes tried attached (``gradx_shapes_tried``) for the message.
    """
    rejected: list[str] = []
    for k, shape in enumerate(DEFAULT_SHAPES):
        inputs = make(sample, False, shape)
        try:
            problem = problem_from_inputs(inputs)
            try:
                check_output_is_usable(problem)
            except NonFiniteOutput:
                if not inputs.random:
                    raise
                # log, sqrt, pow of random negative numbers: try positive numbers once.
                inputs = make(sample, True, shape)
                problem = problem_from_inputs(inputs)
                check_output_is_usable(problem)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            if not inputs.default_shaped:
                try:
                    exc.gradx_inputs = inputs  # type: ignore[attr-defined]
                except AttributeError:
                    pass
                raise
            rejected.append(f"{shape} ({one_line(exc)[:100]})")
            if k == len(DEFAULT_SHAPES) - 1:
                shapes = ", ".join(str(s) for s in DEFAULT_SHAPES)
                try:
                    exc.gradx_shapes_tried = shapes  # type: ignore[attr-defined]
                    exc.gradx_inputs = inputs  # type: ignore[attr-defined]
                except AttributeError:
                    pass
                raise
            continue
        notes: list[Phrase] = []
        if rejected:
            notes.append(
                phrase(
                    "the function rejects random inputs of shape {rejected}: checked with "
                    "shape {shape}",
                    rejected="; ".join(rejected),
                    shape=shape,
                )
            )
        return inputs, problem, notes
    raise AssertionError("unreachable")


def _tolerance_for(problem: Problem, tol: Tolerance) -> Tolerance:
    """The tolerance, loosened to the lowest precision on the path (a float16 output...)."""
    from dataclasses import replace

    name = dtype_name(problem.precision)
    if problem.precision == problem.dtype or name not in PATH_TOLERANCES:
        return tol
    rtol, atol = PATH_TOLERANCES[name]
    return replace(
        tol,
        rtol=max(tol.rtol, rtol),
        atol=max(tol.atol, atol),
        fd_rtol=max(tol.fd_rtol, rtol),
        fd_atol=max(tol.fd_atol, atol),
    )


def _empty_check(problem: Problem, sample: int, at, notes: list[Phrase]) -> GradCheck:
    """An empty input or output: nothing to compare, a PASS with 0 entries and a note."""
    empty = (
        phrase("the inputs are empty: the Jacobian has no entries, nothing to compare")
        if problem.n == 0
        else phrase("the output is empty: the Jacobian has no entries, nothing to compare")
    )
    infos = tuple(
        InputInfo(name, shape, kind, dtype_name(problem.dtype))
        for name, shape, kind in zip(problem.names, problem.shapes, problem.kinds, strict=True)
    )
    return GradCheck(
        order=1,
        sample=sample,
        verdict=Verdict.PASS,
        method="full jacobian",
        inputs=infos,
        output_shape=(problem.m,),
        entries_checked=0,
        mismatch_count=0,
        worst=None,
        evaluations=problem.evaluations,
        notes=(
            empty,
            *problem.notes,
            *notes,
        ),
        at=at,
    )


def _locate_in_forward(info: ErrorInfo, inputs: Inputs, file: str | None) -> ErrorInfo:
    """For an error raised by backward: the user's forward line, found by anomaly mode."""
    import re
    import warnings
    from dataclasses import replace

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autograd.detect_anomaly(check_nan=False):
                problem = problem_from_inputs(inputs)
                problem.vjp(torch.ones(problem.m, dtype=problem.dtype))
        except Exception:  # noqa: BLE001 - the error is expected; only the trace matters
            pass
    frame = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in [^\n]*\n\s+(?P<src>[^\n]*)')
    roots = _library_roots()
    wanted = os.path.normcase(str(Path(file).resolve())) if file else None
    found = None
    for warning in caught:
        text = str(warning.message)
        if "Traceback of forward call" not in text:
            continue
        for match in frame.finditer(text):
            path = os.path.normcase(os.path.abspath(match["file"]))
            mine = path == wanted if wanted else not path.startswith(roots)
            if mine:
                found = (Path(match["file"]).name, int(match["line"]), match["src"].strip())
    if found is None:
        return info
    return replace(info, location=f"{found[0]}:{found[1]}", source=found[2], in_backward=True)


def _with_notes(check: GradCheck, notes: list[Phrase]) -> GradCheck:
    from dataclasses import replace

    return replace(check, notes=(*check.notes, *notes))


def _result(name, kind, line, checks, start, error: ErrorInfo | None) -> TargetResult:
    from gradx.commands.check.model import Verdict

    verdict = Verdict.ERROR if error else worst_verdict([c.verdict for c in checks])
    return TargetResult(
        name=name,
        kind=kind,
        line=line,
        verdict=verdict,
        checks=tuple(checks),
        error=error,
        seconds=time.perf_counter() - start,
    )


def _example_takes_generator(target: Target) -> bool:
    import inspect

    if target.example is None:
        return False
    try:
        return len(inspect.signature(target.example).parameters) > 0
    except (TypeError, ValueError):
        return False


def error_info(exc: BaseException, file: str | None) -> ErrorInfo:
    """The exception in one line, the user's line that raised it, and gradx's explanation."""
    where = _user_frame(exc, file)
    from gradx.commands.explain import describe_exception  # None for errors it does not know

    # English for the JSON whatever the locale; the other languages for the report to choose.
    described = describe_exception(exc, lang="en")
    title = described.title if described is not None else None
    fix = described.fix_summary if described is not None else None
    other: list[tuple[str, str, str]] = []
    for lang in LANGUAGES if described is not None else ():
        said = describe_exception(exc, lang=lang) if lang != "en" else None
        if said is not None and said.title and said.fix_summary:
            other.append((lang, said.title, said.fix_summary))
    message = one_line(exc)
    type_name, _, rest = message.partition(": ")
    if where is None and _raised_by_gradx(exc):
        # Not the user's code: say so rather than blame the target.
        return ErrorInfo(
            type="",
            message=f"internal error in gradx ({message}); please report it with the file",
        )
    return ErrorInfo(
        type=type_name,
        message=rest,
        location=f"{where[0]}:{where[1]}" if where else None,
        source=where[2] if where else None,
        title=title,
        fix=fix,
        explained_in=tuple(other),
    )


def _raised_by_gradx(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.normcase(str(Path(__file__).resolve().parent)) + os.sep
    return bool(frames) and os.path.normcase(os.path.abspath(frames[-1].filename)).startswith(here)


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(k, "") for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(str(Path(__file__).resolve().parents[1]))  # gradx itself
    roots.add(str(Path(torch.__file__).resolve().parent))
    return tuple(os.path.normcase(os.path.abspath(r)) + os.sep for r in roots if r)


def _user_frame(exc: BaseException, file: str | None) -> tuple[str, int, str] | None:
    frames = traceback.extract_tb(exc.__traceback__)
    wanted = os.path.normcase(str(Path(file).resolve())) if file else None
    roots = _library_roots()
    found = None
    for frame in frames:
        path = os.path.normcase(os.path.abspath(frame.filename))
        if wanted is not None:
            mine = path == wanted
        else:
            mine = not path.startswith(roots) and not frame.filename.startswith("<")
        if mine:
            found = (Path(frame.filename).name, frame.lineno or 0, (frame.line or "").strip())
    if found is None and file is None and frames:
        last = frames[-1]
        found = (Path(last.filename).name, last.lineno or 0, (last.line or "").strip())
    return found


def flush_streams() -> None:
    """Flush what the user's code printed, so it is not lost if the worker is killed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
