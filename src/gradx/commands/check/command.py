"""``gradx check``'s entry: ``CheckRequest.from_cli(...)`` checks the options, ``.run()`` checks
the file's targets, each in the worker process, and returns the CheckReport.

stdlib only (the parent process never imports torch; the worker does the numerics).
Rendering happens in ``gradx.render.check_report``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradx.commands.check.device import parse_device
from gradx.commands.check.model import CheckReport, Settings
from gradx.commands.check.runner import DEFAULT_TIMEOUT, default_memory, run_file
from gradx.errors import GradxError
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import AGAINST_TOLERANCES as AGAINST_DTYPES
from gradx.numerics.tolerances import check_tolerance_for
from gradx.user_script.spec import InputSpec, check_file, input_spec, split_target


@dataclass(frozen=True)
class CheckOutput:
    """Where ``gradx check`` writes its report: output-only options, read by the renderer."""

    json: bool = False  # --json: one JSON document instead of the report
    values: bool = False  # --values: each target's inputs and gradients too
    lang: str = "en"  # --lang: the report's and the progress bar's words (JSON stays English)


@dataclass(frozen=True)
class CheckRequest:
    """A validated ``gradx check`` invocation."""

    path: Path
    name: str | None
    spec: InputSpec
    settings: Settings
    memory: int | None = None  # the worker's data memory cap in bytes; None: no cap
    output: CheckOutput = field(default_factory=CheckOutput)

    @classmethod
    def from_cli(
        cls,
        *,
        target: str,
        shapes: tuple[str, ...] = (),
        at: tuple[str, ...] = (),
        samples: int = 1,
        seed: int = 0,
        order: int = 1,
        timeout: float | None = DEFAULT_TIMEOUT,
        dtype: str = "float64",
        rtol: float | None = None,
        atol: float | None = None,
        method: str = "auto",
        against: str | None = None,
        device: str = "cpu",
        memory: str | None = None,
        json_out: bool = False,
        values: bool = False,
        lang: str | None = None,
    ) -> CheckRequest:
        """Check every option; GradxError (exit 2) for the first one that is unusable."""
        from gradx.translations import resolve_lang

        output = CheckOutput(json=json_out, values=values, lang=resolve_lang(lang))
        path, name = split_target(target)
        check_file(path)
        if path.suffix not in (".py", ".pyw", ""):
            raise GradxError(f"{path} is not a Python file (expected a .py file)")
        if order not in (1, 2):
            raise GradxError(f"--order {order}: gradx check checks order 1 or 2")
        if samples < 1:
            raise GradxError(f"--samples {samples}: give at least 1")
        if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
            raise GradxError(f"--timeout {timeout:g}: give a positive number of seconds")
        device = parse_device(device)
        limit = default_memory() if memory is None else parse_memory(memory)
        if against is not None:
            request = cls._against(
                path, name, shapes, at, samples, seed, order, timeout, dtype, rtol, atol, method,
                against, device,
            )  # fmt: skip
            return dataclasses.replace(request, memory=limit, output=output)
        dtype = DType.parse(dtype)
        if not dtype.finite_differences:
            raise GradxError(
                f"--dtype {dtype}: finite differences are noise in {dtype}; compare with a "
                "reference implementation instead (--against FILE::NAME)"
            )
        for option, value in (("--rtol", rtol), ("--atol", atol)):
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise GradxError(f"{option} {value:g}: give a number >= 0")
        method = Method.parse(method)
        tol = check_tolerance_for(dtype, rtol, atol)
        settings = Settings(
            dtype=dtype,
            rtol=tol.rtol,
            atol=tol.atol,
            seed=seed,
            samples=samples,
            order=order,
            timeout=timeout,
            method=method,
            device=device,
        )
        return cls(path, name, input_spec(shapes, at), settings, limit, output)

    @classmethod
    def _against(
        cls, path, name, shapes, at, samples, seed, order, timeout, dtype, rtol, atol, method,
        against, device,
    ) -> CheckRequest:  # fmt: skip
        """``--against FILE::NAME``: the kernel against a reference (see reference_check)."""
        if name is None:
            raise GradxError(
                f"--against compares one kernel: write {path}::NAME (the kernel) and "
                f"--against FILE::NAME (the reference)"
            )
        ref_path, ref_name = split_target(against)
        if ref_name is None:
            raise GradxError(
                f"--against {against}: name the reference, e.g. --against {ref_path}::reference"
            )
        check_file(ref_path)
        if ref_path.suffix not in (".py", ".pyw", ""):
            raise GradxError(f"--against {against}: {ref_path} is not a Python file")
        if ref_path.resolve() == path.resolve() and ref_name == name:
            raise GradxError(f"--against {against}: the kernel and the reference are the same")
        if dtype not in AGAINST_DTYPES:
            raise GradxError(f"--dtype {dtype}: use {', '.join(AGAINST_DTYPES)}")
        if order != 1:
            raise GradxError(f"--order {order}: --against compares first derivatives only")
        if method != "auto":
            raise GradxError(f"--method {method}: --against has its own comparison (no method)")
        if samples < 1:
            raise GradxError(f"--samples {samples}: give at least 1")
        if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
            raise GradxError(f"--timeout {timeout:g}: give a positive number of seconds")
        for option, value in (("--rtol", rtol), ("--atol", atol)):
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise GradxError(f"{option} {value:g}: give a number >= 0")
        default_rtol, default_atol = AGAINST_DTYPES[dtype]
        settings = Settings(
            dtype=dtype,
            rtol=default_rtol if rtol is None else rtol,
            atol=default_atol if atol is None else atol,
            seed=seed,
            samples=samples,
            order=1,
            timeout=timeout,
            method="auto",
            against=f"{ref_path}::{ref_name}",
            device=device,
        )
        return cls(path, name, input_spec(shapes, at), settings)

    def run(self, on_event: Callable[[tuple], None] | None = None) -> CheckReport:
        """Check the targets, each in the worker process under the time and memory limits."""
        return run_file(
            self.path, self.name, self.spec, self.settings, on_event=on_event, memory=self.memory
        )


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_MIN_MEMORY = 256 << 20  # torch alone needs about this much


def parse_memory(text: str) -> int | None:
    """``--memory``: ``8G``, ``512M``, ``1.5GiB`` or ``none`` (no cap) → bytes or None."""
    cleaned = text.strip().upper().removesuffix("B").removesuffix("I")
    if cleaned in ("NONE", "0", "UNLIMITED"):
        return None
    unit = cleaned[-1:] if cleaned[-1:] in _UNITS else ""
    number = cleaned[: len(cleaned) - len(unit)]
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise GradxError(f"--memory {text}: give a size such as 8G or 512M, or none")
    size = int(value * _UNITS[unit])
    if size < _MIN_MEMORY:
        raise GradxError(f"--memory {text}: give at least 256M (torch alone needs about that)")
    return size
