"""The numeric settings every command shares: the dtype choice and the check method choice.

stdlib only, so that ``cli.py`` can declare its options from these enums (typer then lists the
choices in ``--help``) without importing torch. The tolerance table lives in ``tolerances.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from gradx.errors import GradxError


class InvalidChoice(GradxError, ValueError):
    """A setting outside its choices: a GradxError for the CLI (exit 2), a ValueError for the API."""


def choice_error(option: str, value: object, choices: Iterable[object]) -> str:
    """The one message for a value that is not among the choices, worded as typer words it."""
    listed = ", ".join(repr(str(choice)) for choice in choices)
    return f"Invalid value for {option!r}: {str(value)!r} is not one of {listed}."


class DType(StrEnum):
    """The floating-point types gradx computes in (float64 by default)."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"
    # Only for ``gradx check --against``: a difference quotient in these types is rounding noise.
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"

    @property
    def finite_differences(self) -> bool:
        """Whether finite differences (and so eval and plain check) make sense in this type."""
        return self in (DType.FLOAT64, DType.FLOAT32)

    @classmethod
    def parse(cls, value: object, option: str = "--dtype") -> DType:
        """``value`` as a DType: a name (``"float32"``) or a torch dtype; InvalidChoice otherwise."""
        if isinstance(value, cls):
            return value
        name = value if isinstance(value, str) else str(value).removeprefix("torch.")
        try:
            return cls(name)
        except ValueError:
            raise InvalidChoice(choice_error(option, value, cls)) from None

    @property
    def torch(self) -> Any:
        """The torch dtype (imports torch)."""
        import torch

        return getattr(torch, self.value)


class Method(StrEnum):
    """How ``gradx check`` compares Jacobians: by size, every entry, directions or projections."""

    AUTO = "auto"  # directions from 32 inputs up to a size limit, full below, else projections
    FULL = "full"  # every Jacobian entry
    DIRECTIONS = "directions"  # J·u along random directions, exact columns where flagged
    PROJECTIONS = "projections"  # random projections vᵀJu and bisection

    @classmethod
    def parse(cls, value: object, option: str = "--method") -> Method:
        """``value`` as a Method; InvalidChoice with the shared message otherwise."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value))
        except ValueError:
            raise InvalidChoice(choice_error(option, value, cls)) from None
