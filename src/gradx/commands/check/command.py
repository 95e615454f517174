"""``gradx check`` from the command line: validate the options, then run the file's targets.

stdlib only (the parent process never imports torch; the worker does the numerics).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradx.commands.check.model import CheckReport, Settings
from gradx.commands.check.runner import DEFAULT_TIMEOUT, run_file
from gradx.errors import GradxError
from gradx.numerics.settings import DType, Method
from gradx.numerics.tolerances import check_tolerance_for
from gradx.user_script.spec import InputSpec, check_file, input_spec, split_target


@dataclass(frozen=True)
class CheckRequest:
    """A validated ``gradx check`` invocation."""

    path: Path
    name: str | None
    spec: InputSpec
    settings: Settings

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
    ) -> CheckRequest:
        """Check every option; GradxError (exit 2) for the first one that is unusable."""
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
        dtype = DType.parse(dtype)
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
        )
        return cls(path, name, input_spec(shapes, at), settings)

    def run(self, on_event: Callable[[tuple], None] | None = None) -> CheckReport:
        """Check the targets, each in the worker process under the time limit."""
        return run_file(self.path, self.name, self.spec, self.settings, on_event=on_event)
