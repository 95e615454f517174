"""Non-regular and oversize ``.py`` paths are refused at once (issue 12, item 8), and the check
worker's memory cap (item 15).

A FIFO would block the read forever and /dev/zero never ends: both run in a subprocess with a
bound, so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradx.commands.check.command import parse_memory
from gradx.errors import GradxError

SRC = Path(__file__).parents[1] / "src"


def gradx(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "gradx", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def special_files(tmp_path: Path) -> list[Path]:
    fifo = tmp_path / "f.py"
    os.mkfifo(fifo)
    paths = [fifo]
    if Path("/dev/zero").exists():
        zero = tmp_path / "zero.py"
        zero.symlink_to("/dev/zero")
        paths.append(zero)
    return paths


@pytest.mark.parametrize("command", ["check", "graph"])
def test_fifos_and_devices_are_refused(tmp_path, command):
    for path in special_files(tmp_path):
        target = str(path) if command == "check" else f"{path}::f"
        done = gradx(command, target)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == (
            f"error: {path} is not a regular file (a FIFO or a device): give a Python file"
        )


def test_an_oversize_source_is_refused(run_cli, tmp_path):
    big = tmp_path / "big.py"
    with big.open("wb") as handle:
        handle.truncate(17 * 2**20)  # sparse: no real disk used
    result = run_cli("check", str(big))
    assert result.exit_code == 2
    assert "too large for a Python source file" in result.stderr


def test_explain_run_refuses_a_fifo(run_cli, tmp_path):
    fifo = tmp_path / "s.py"
    os.mkfifo(fifo)
    result = run_cli("explain-error", "--run", str(fifo))
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("text", "size"),
    [("512M", 512 * 2**20), ("8G", 8 * 2**30), ("1.5GiB", int(1.5 * 2**30)), ("none", None)],
)
def test_memory_sizes(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["abc", "-1G", "10M", "nanG", "G"])
def test_unusable_memory_sizes_are_refused(text):
    with pytest.raises(GradxError):
        parse_memory(text)


def test_a_target_over_the_memory_limit_is_its_own_error(run_cli, tmp_path):
    script = tmp_path / "hog.py"
    # torch.empty reserves 4 GiB without touching it: no real memory is used even without a cap.
    script.write_text(
        "import torch\n\n"
        "def hog(x):\n    return x * torch.empty(2**29, dtype=torch.float64)[:1].fill_(1)\n\n"
        "def fine(x):\n    return x * 2\n"
    )
    result = run_cli("check", str(script), "--memory", "1G")
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())
    assert "out of memory: the check needs more than the worker's limit of 1 GiB" in text
    assert "PASS fine" in text


def test_memory_option_is_validated_before_any_work(run_cli, tmp_path):
    script = tmp_path / "ok.py"
    script.write_text("def f(x):\n    return x\n")
    result = run_cli("check", str(script), "--memory", "lots")
    assert result.exit_code == 2
    assert "--memory lots" in result.stderr


@given(st.text(max_size=12))
def test_any_memory_text_is_a_size_or_a_clean_error(text):
    try:
        size = parse_memory(text)
    except GradxError as error:
        assert error.message.startswith(f"--memory {text}")
        return
    assert size is None or size >= 256 * 2**20
