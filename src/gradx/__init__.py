"""gradx: a command-line gradient explorer for PyTorch.

Importing gradx is cheap: torch and sympy are imported only when a function that needs them
is called.
"""

from __future__ import annotations

__version__ = "0.1.0"
