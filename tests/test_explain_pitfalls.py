"""Finding d2l's "gradients accumulate" pitfall in a script's source, without running it."""

from __future__ import annotations

import pytest

from gradx.commands.explain.pitfalls import Accumulation, gradient_accumulation

D2L = """
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
y = x.sum()
y.backward()
"""


@pytest.mark.parametrize(
    ("source", "found"),
    [
        (D2L, Accumulation(4, 6)),
        (D2L.replace("y = x.sum()", "x.grad.zero_()\ny = x.sum()"), None),
        (D2L.replace("y = x.sum()", "x.grad = None\ny = x.sum()"), None),
        (
            "for b in data:\n    loss = f(b)\n    loss.backward()\n    opt.step()\n",
            Accumulation(3, 3),
        ),
        (
            "for b in data:\n    opt.zero_grad()\n    loss = f(b)\n    loss.backward()\n",
            None,
        ),
        ("def train():\n    a.backward()\n    b.backward()\n", Accumulation(2, 3)),
        ("def train():\n    a.backward()\n    model.zero_grad()\n    b.backward()\n", None),
        ("loss.backward()\n", None),
        ("if x:\n    a.backward()\nelse:\n", None),  # not Python: nothing to say
        ("", None),
    ],
)
def test_two_backward_calls_without_a_reset_between_them(source, found):
    assert gradient_accumulation(source) == found
