"""``gradx explain-error`` as a user runs it: what it prints and how it exits."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from gradx.commands.explain.catalog import load_catalog

ELEMENT_0 = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"
ROOT = Path(__file__).resolve().parents[1]


def test_a_message_is_explained(run_cli):
    result = run_cli("explain-error", ELEMENT_0)
    assert result.exit_code == 0
    out = result.stdout
    assert "error  no-grad-fn  The loss does not require grad" in out
    for heading in ("What happened", "Possible causes", "How to fix", "Before:", "After:", "Docs:"):
        assert heading in out
    assert "w = torch.randn(3, requires_grad=True)" in out  # the after example
    assert "https://pytorch.org/docs/stable/notes/autograd.html" in out
    assert result.stderr == ""


def test_an_unquoted_message_is_joined(run_cli):
    result = run_cli(
        "explain-error", *"grad can be implicitly created only for scalar outputs".split()
    )
    assert result.exit_code == 0
    assert "non-scalar-backward" in result.stdout


def test_a_traceback_on_stdin_is_explained_with_the_users_line(run_cli):
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/home/ana/train.py", line 9, in <module>\n'
        "    loss.backward()\n"
        f"{ELEMENT_0}\n"
    )
    result = run_cli("explain-error", input=traceback)
    assert result.exit_code == 0
    assert "/home/ana/train.py:9 in <module>" in result.stdout
    assert "9 │ loss.backward()" in result.stdout


def test_dash_reads_stdin(run_cli):
    result = run_cli("explain-error", "-", input="Can't call numpy() on Tensor that requires grad.")
    assert result.exit_code == 0 and "numpy-requires-grad" in result.stdout


def test_an_unrecognised_error_exits_1_with_advice_and_suggests_run(run_cli):
    result = run_cli(
        "explain-error", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    )
    assert result.exit_code == 1
    out = result.stdout
    assert "gradx did not recognise an autograd error or warning in this input." in out
    assert "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB" in out
    assert "General advice" in out
    assert "gradx explain-error --run script.py" in out


@pytest.mark.parametrize(("stdin", "message"), [("", "empty"), ("   \n\n", "empty")])
def test_empty_input_exits_2(run_cli, stdin: str, message: str):
    result = run_cli("explain-error", input=stdin)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no text to explain: the input is empty")
    assert result.stdout == ""


def test_binary_input_exits_2_without_a_traceback(run_cli):
    result = run_cli("explain-error", input=bytes(range(256)) * 40)
    assert result.exit_code == 2
    assert "error: the input looks like binary data, not an error message" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_more_than_4_mib_of_log_keeps_the_end(run_cli):
    log = ("epoch 3 | step 991 | loss 0.2231 | lr 1e-4\n" * 120_000) + ELEMENT_0 + "\n"
    assert len(log) > 4 * 1024 * 1024
    result = run_cli("explain-error", input=log)
    assert result.exit_code == 0
    assert "Only the last 4 MiB of the input were read." in result.stdout
    assert "no-grad-fn" in result.stdout


def test_a_catalog_id_is_explained_directly(run_cli):
    result = run_cli("explain-error", "backward-twice")
    assert result.exit_code == 0
    assert "Backward through the graph a second time" in result.stdout
    assert "Trying to backward through the graph a second time" in result.stdout  # the example
    snake = run_cli("explain-error", "backward_twice")
    assert snake.exit_code == 0 and snake.stdout == result.stdout


def test_an_unknown_id_exits_2_with_suggestions(run_cli):
    result = run_cli("explain-error", "backwards-twice")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: unknown catalog id 'backwards-twice': did you mean backward-twice"
    )


def test_list_prints_every_id_and_title(run_cli):
    result = run_cli("explain-error", "--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    catalog = load_catalog()
    assert len(lines) == len(catalog.entries) + 1
    assert lines[0].split()[0] == "backward-twice"
    assert lines[0].endswith("Backward through the graph a second time")
    assert lines[-1] == f"{len(catalog.entries)} entries (gradx explain-error ID explains one)"


def test_list_json(run_cli):
    document = json.loads(run_cli("explain-error", "--list", "--json").stdout)
    assert document["schema"] == "gradx.explain-catalog/1"
    assert [e["id"] for e in document["entries"]] == list(load_catalog().ids)


def test_json_output_schema(run_cli):
    result = run_cli("explain-error", "--json", ELEMENT_0)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["schema"] == "gradx.explain-error/1"
    assert document["recognised"] is True and document["source"] == "text"
    (finding,) = document["findings"]
    assert finding["id"] == "no-grad-fn"
    assert finding["message"] == ELEMENT_0
    assert finding["details"] == {"index": "0"}
    assert set(finding) == {
        "id", "title", "kind", "exception", "message", "count", "details", "explanation",
        "causes", "fix", "docs", "where", "forward", "frames",
    }  # fmt: skip
    assert set(finding["fix"]) == {"summary", "text", "before", "after"}
    assert {"id", "text", "applies", "evidence"} == set(finding["causes"][0])


def test_json_for_unrecognised_text_exits_1(run_cli):
    result = run_cli("explain-error", "--json", "ValueError: bad value")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["recognised"] is False and document["findings"] == []
    assert document["unrecognised"] == ["ValueError: bad value"]
    assert document["advice"]


def test_chinese_with_lang_option(run_cli):
    result = run_cli("explain-error", "--lang", "zh", ELEMENT_0)
    assert result.exit_code == 0
    assert "错误  no-grad-fn  损失不需要梯度" in result.stdout
    assert "发生了什么" in result.stdout and "如何修复" in result.stdout


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_GB.UTF-8"}, "zh"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_default_language_comes_from_the_locale(run_cli, monkeypatch, environment, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    document = json.loads(run_cli("explain-error", "--json", ELEMENT_0).stdout)
    assert document["lang"] == expected


def test_an_unknown_language_exits_2(run_cli):
    result = run_cli("explain-error", "--lang", "fr", ELEMENT_0)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown language 'fr': choose en or zh")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--jsn", ELEMENT_0), "error: no such option: --jsn"),
        (("--anomaly", ELEMENT_0), "error: --anomaly only makes sense with --run SCRIPT"),
        (("--list", "backward-twice"), "error: --list takes no TEXT and no --run"),
        (
            ("--run", "tests/explain_scripts/does_not_exist.py"),
            "error: no such file: tests/explain_scripts/does_not_exist.py",
        ),
        (("--run", "tests/explain_scripts"), "error: not a file: tests/explain_scripts"),
        (
            ("--run", "tests/explain_scripts/detached.py", "--timeout", "0"),
            "error: --timeout must be a positive number",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line(run_cli, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    result = run_cli("explain-error", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_a_terminal_on_stdin_gets_a_usage_hint_instead_of_a_wait():
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gradx", "explain-error"],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 2
    assert (
        "error: nothing to explain: give the error text, pipe it in, or use --run SCRIPT"
        in result.stderr
    )
    assert "python train.py 2>&1 | gradx explain-error" in result.stderr


def test_explain_error_imports_neither_torch_nor_sympy():
    code = (
        "import sys\n"
        "from gradx.cli import app\n"
        "for args in (['explain-error', 'backward-twice'], ['explain-error', '--list', '--json'],\n"
        "             ['explain-error', '--json', 'RuntimeError: x'], ['explain-error', '--help']):\n"
        "    try:\n"
        "        app(args, prog_name='gradx')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "import gradx\n"
        "gradx.explain('backward-twice')\n"
        "print('LOADED', 'torch' in sys.modules, 'sympy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "LOADED False False"


def test_help_documents_the_exit_codes(run_cli):
    result = run_cli("explain-error", "--help")
    assert result.exit_code == 0
    assert "0 recognised, 1 not recognised" in result.stdout
    for option in ("--run", "--timeout", "--anomaly", "--list", "--json", "--lang"):
        assert option in result.stdout
    assert "(default: from LC_ALL, LC_MESSAGES or LANG)" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("name", "entry_id"),
    [
        ("retain-graph", "backward-twice"),
        ("retain_graph", "backward-twice"),
        ("if-tensor", "tensor-bool-ambiguous"),
        ("nan-gradient", "anomaly-nan"),
    ],
)
def test_an_entry_is_found_by_its_aliases(run_cli, name, entry_id):
    result = run_cli("explain-error", name, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"][0]["id"] == entry_id


def test_a_misspelt_alias_suggests_its_entry(run_cli):
    result = run_cli("explain-error", "retain-grap")
    assert result.exit_code == 2
    assert "did you mean backward-twice" in result.stderr


def test_traceback_advice_only_for_input_with_a_traceback(run_cli):
    plain = run_cli("explain-error", "something odd happened").stdout
    assert "Read the last line of the traceback" not in plain
    assert "General advice" in plain
    pasted = run_cli(
        "explain-error",
        'Traceback (most recent call last):\n  File "t.py", line 3, in <module>\n'
        "    main()\nValueError: odd\n",
    ).stdout
    assert "Read the last line of the traceback first" in pasted
