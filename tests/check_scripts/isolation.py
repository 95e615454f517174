"""A loop that never ends, a crash, a raise and an autograd error, between healthy targets."""

import os
import signal

import torch


def before(x):
    return torch.exp(x)


def d2l_loop(a):
    # d2l's control-flow example: at a = 0 the loop never ends.
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def example_d2l_loop():
    return torch.tensor(0.0)


def segfault(x):
    os.kill(os.getpid(), signal.SIGSEGV)
    return x


def raises(x):
    scale = torch.ones(2, 3)
    return torch.mm(scale, x.reshape(1, 1))  # shapes do not fit


def in_place(x):
    y = torch.exp(x)
    y.add_(1)  # exp saved its output for backward; this changes it
    return y


def after(x):
    return torch.cos(x)
