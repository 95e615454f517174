"""Importing this file fails: the module does not exist."""

import gradx_no_such_module_xyz  # noqa: F401
import torch


def f(x):
    return torch.sin(x)
