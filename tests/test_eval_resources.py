"""gradx eval's process-wide settings: one torch thread on a busy machine, restored after; the
garbage collector is back on after the imports."""

from __future__ import annotations

import gc
import os

import pytest
import torch

from gradx.commands.eval import chunk
from gradx.commands.eval.pipeline import EvalRequest, evaluate_expression


@pytest.fixture
def threads_seen(monkeypatch):
    seen: list[int] = []
    original = chunk.PointwiseEvaluator.evaluate

    def spy(self, coords, offset):
        seen.append(torch.get_num_threads())
        return original(self, coords, offset)

    monkeypatch.setattr(chunk.PointwiseEvaluator, "evaluate", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield seen
    torch.set_num_threads(before)


@pytest.mark.parametrize(("load", "inside"), [(100.0, 1), (0.0, 2)])
def test_one_thread_only_while_the_machine_is_busy(monkeypatch, threads_seen, load, inside):
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    request = EvalRequest(expression="sin(x)*exp(-x^2/10)", ranges=("-1:1",), steps=1000)
    report = evaluate_expression(request, chunk_size=256)
    assert report.summary.points == 1000 and report.summary.ok == 1000
    assert threads_seen and set(threads_seen) == {inside}
    assert torch.get_num_threads() == 2  # restored for the caller


def test_the_collector_is_on_after_an_evaluation():
    assert gc.isenabled()
    evaluate_expression(EvalRequest(expression="x^2", at=("x=3",)))
    assert gc.isenabled()
