"""``gradx check --lang zh`` and ``gradx graph --lang zh``: the report in Chinese, the locale as
the default, JSON the same in every language, and Chinese that wraps well on narrow terminals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from gradx.render.cjk_wrap import break_offsets

CHECK = Path(__file__).parent / "check_scripts"
WRONG = str(CHECK / "wrong_functions.py")
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that no sentence wraps (the narrow ones are tested below)."""
    monkeypatch.setenv("COLUMNS", "250")


def _timeless(text: str) -> str:
    return re.sub(r"\(\d+\.\d s\)", "(T s)", text)


def _without_seconds(document: object) -> object:
    """The JSON document with its run times (which differ between runs) left out."""
    if isinstance(document, dict):
        return {k: _without_seconds(v) for k, v in document.items() if k != "seconds"}
    if isinstance(document, list):
        return [_without_seconds(v) for v in document]
    return document


# ---------------------------------------------------------------------------- check


def test_check_speaks_chinese_with_lang_zh(run_cli, wide):
    result = run_cli("check", f"{WRONG}::SignError", "--lang", "zh")
    assert result.exit_code == 1, result.stdout + result.stderr
    out = result.stdout
    assert "结论" in out and "目标" in out  # the overview's headings
    assert "失败 SignError（autograd.Function，第 6 行） — 一阶导数：25 个元素中有 5 个错误" in out
    assert "可能原因：符号错误：在每个错误元素上 autograd ≈ −数值导数" in out
    assert "自动微分" in out and "数值导数" in out and "容差" in out  # the entries table
    assert "说明：" in out and "autograd.Function 不支持 vmap：逐点计算" in out  # a core note
    assert "1 个目标：1 个失败" in out
    assert "sign error" not in out and "entries wrong" not in out


def test_check_follows_the_locale_and_lang_en_overrides_it(run_cli, monkeypatch, wide):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    chinese = run_cli("check", f"{WRONG}::MissingFactor")
    assert "可能原因：常数因子：在每个错误元素上 autograd = 0.333333 × 数值导数" in chinese.stdout
    english = run_cli("check", f"{WRONG}::MissingFactor", "--lang", "en")
    assert "cause: constant factor: autograd = 0.333333 × numeric on every wrong entry" in (
        english.stdout
    )
    assert not re.search(r"[\u4e00-\u9fff]", english.stdout)


def test_check_json_is_the_same_in_every_language(run_cli):
    documents = [
        json.loads(run_cli("check", f"{WRONG}::Transposed", "--json", "--lang", lang).stdout)
        for lang in ("en", "zh")
    ]
    assert _without_seconds(documents[0]) == _without_seconds(documents[1])
    (target,) = documents[1]["targets"]
    cause = target["checks"][0]["cause"]
    assert cause["id"] == "transposed" and cause["text"].startswith("transposed Jacobian for x")


@pytest.mark.parametrize("command", [["check", WRONG], ["graph", "2*x*x"]])
def test_an_unknown_language_is_one_line_and_exit_2(run_cli, command):
    result = run_cli(*command, "--lang", "fr")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["error: unknown language 'fr': choose en or zh"]


def test_the_shapes_hint_and_the_values_view_in_chinese(run_cli, tmp_path, wide):
    script = tmp_path / "matvec.py"
    script.write_text(
        "import torch\n\n\ndef matvec(w, x):\n    return w @ x\n\n\n"
        "def scale(x):\n    return 2 * x\n",
        encoding="utf-8",
    )
    result = run_cli("check", str(script), "--lang", "zh", "--values", "--shape", "x=2")
    out = " ".join(result.stdout.split())  # the columns of the values table
    assert "gradx 依次尝试了形状为 (5,), (2, 3), () 的随机输入" in out
    assert (
        "如果 matvec 需要其他形状，请用 --shape（如 --shape w=3,4 --shape x=3）或 --at 指定" in out
    )
    assert "通过 scale 的输入与梯度 输入 值 output.sum() 的梯度 x [1.6153, 1.75449] [2, 2]" in out


# ---------------------------------------------------------------------------- graph


def test_graph_speaks_chinese(run_cli, wide):
    result = run_cli("graph", "2*x*x", "--at", "x=0,1,2,3", "--lang", "zh")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "叶子节点，requires_grad · 梯度 [0, 4, 8, 12]" in out
    assert "，已在上方显示" in out
    assert "反向传播后的梯度" in out and "形状" in out
    assert "所以每个叶子节点得到的是 output.sum() 的梯度" in out
    assert "3 个节点，全部显示" in out


def test_graph_names_the_cut_in_chinese(run_cli, monkeypatch, wide):
    monkeypatch.chdir(CHECK)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = run_cli("graph", "detach_bugs.py::detach_bug")
    assert result.exit_code == 1
    out = result.stdout
    assert "✂ 被 .detach()（detach_bugs.py:12） 切断" in out
    assert "梯度无法经此流回" in out
    assert "✗ 无：被" in out
    assert "注：输入是随机生成的（随机种子 0），与 gradx check 相同" in out
    assert "1 个需要梯度的叶子张量没有得到梯度：w" in out
    english = run_cli("graph", "detach_bugs.py::detach_bug", "--lang", "en").stdout
    assert "✂ cut by .detach() at detach_bugs.py:12" in english
    assert not re.search(r"[\u4e00-\u9fff]", english)


def test_graph_orders_in_chinese(run_cli, wide):
    out = run_cli("graph", "sin(x)", "--order", "2", "--lang", "zh").stdout
    assert "0 阶：f（前向传播）" in out
    assert "2 阶：f''，由 torch.autograd.grad(f'.sum(), x, create_graph=True) 构建" in out
    assert "计算图如何增长（对 x 求导）" in out and "计算图节点数" in out
    assert "每次以 create_graph=True 做反向传播" in out


@pytest.mark.parametrize(
    "args",
    [
        ["2*x*x", "--at", "x=0,1,2,3"],
        ["sin(x)", "--no-backward"],
        ["sin(x)", "--order", "2"],
    ],
)
def test_graph_json_is_the_same_in_every_language(run_cli, args):
    english = json.loads(run_cli("graph", *args, "--json", "--lang", "en").stdout)
    chinese = json.loads(run_cli("graph", *args, "--json", "--lang", "zh").stdout)
    if "orders" in english:  # the time of each pass differs between runs
        for document in (english, chinese):
            for step in document["orders"]:
                step.pop("seconds")
    assert english == chinese
    if "backward" in english:
        assert not re.search(r"[\u4e00-\u9fff]", json.dumps(english, ensure_ascii=False))


# ---------------------------------------------------------------------------- narrow terminals


def test_golden_check_report_in_chinese_at_80_columns(run_cli, golden, monkeypatch):
    monkeypatch.chdir(CHECK)
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("check", "wrong_functions.py", "--lang", "zh")
    assert result.exit_code == 1
    golden("check_wrong_functions_zh_w80", _timeless(result.stdout))


def test_golden_graph_tree_in_chinese_at_80_columns(run_cli, golden, monkeypatch):
    monkeypatch.chdir(CHECK)
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("graph", "detach_bugs.py::detach_bug", "--lang", "zh")
    assert result.exit_code == 1
    golden("graph_detached_script_zh_w80", result.stdout)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [50, 60, 80])
def test_check_numbers_stay_whole_on_narrow_terminals(run_cli, monkeypatch, lang, width):
    monkeypatch.setenv("COLUMNS", "200")
    wide = _timeless(run_cli("check", f"{WRONG}::Transposed", "--lang", lang).stdout)
    monkeypatch.setenv("COLUMNS", str(width))
    narrow = _timeless(run_cli("check", f"{WRONG}::Transposed", "--lang", lang).stdout)
    said = re.compile(r"left out at|终端只有")  # the line that says which columns it left out
    narrow = "\n".join(line for line in narrow.splitlines() if not said.search(line))
    assert max(cell_len(line) for line in narrow.splitlines()) <= width
    shown = set(NUMBER.findall(narrow))
    assert "-1.25" in shown and "3.0e+00" in shown  # the entries table is there
    assert shown <= set(NUMBER.findall(wide)), (
        f"split at {width}: {shown - set(NUMBER.findall(wide))}"
    )
    assert "…" not in narrow  # nothing cut short either


# ---------------------------------------------------------------------------- line breaking

PIECES = st.lists(
    st.one_of(
        st.sampled_from(["梯度", "反向传播", "计算图", "：", "，", "（", "）", "。"]),
        st.from_regex(r"-?\d{1,9}(\.\d{1,6})?(e[+-]\d\d)?", fullmatch=True),
        st.sampled_from([" ", "x[0]", "autograd", "grad_output", "."]),
    ),
    min_size=1,
    max_size=40,
)


@given(PIECES, st.integers(min_value=12, max_value=80))
def test_chinese_breaks_keep_numbers_whole_and_fit(pieces, width):
    text = "".join(pieces)
    offsets = break_offsets(text, width)
    assert offsets == sorted(set(offsets)) and all(0 < k < len(text) for k in offsets)
    bounds = [0, *offsets, len(text)]
    lines = [text[a:b].rstrip() for a, b in zip(bounds, bounds[1:], strict=False)]
    for k in offsets:  # never between two characters of a number or a name
        assert not (
            text[k - 1].isascii() and text[k - 1].strip() and text[k].isascii() and text[k].strip()
        )
        assert text[k] not in "，。：；）"  # closing punctuation never starts a line
    longest_piece = max(
        (cell_len(p) for p in re.findall(r"[\u4e00-\u9fff]|[^\s\u4e00-\u9fff]+", text)),
        default=0,
    )
    if longest_piece <= width // 2:
        assert all(cell_len(line) <= width for line in lines)


# ---------------------------------------------------------------------------- --against


def test_every_cause_in_reference_terms_has_a_translation():
    import torch

    from gradx.commands.check import causes
    from gradx.commands.check.reference_check import REFERENCE_CAUSES, _in_reference_terms
    from gradx.translations import table

    tiny = torch.tensor([1e-6, 1e-6])
    found = [
        causes.nan_cause(1),
        causes.ignores_grad_output_cause(),
        causes.missing_cause(["x"], unused=[], no_graph=True, order=1),
        causes.missing_cause(["x"], unused=["x"], no_graph=False, order=1),
        causes.missing_cause(["x"], unused=[], no_graph=False, order=1),
        causes.swapped_cause("a", "b"),
        causes.transposed_cause("x"),
        causes.entry_cause(-torch.ones(2), torch.ones(2), tiny, whole=True, rtol=1e-6),
        causes.entry_cause(
            torch.tensor([2.0, 4.0]), torch.tensor([1.0, 2.0]), tiny, whole=True, rtol=1e-6
        ),
    ]
    rewritten = set()
    for cause in found:
        assert cause is not None
        said = _in_reference_terms(cause)
        assert said is not None
        if said.text.template != cause.text.template:
            rewritten.add(said.text.template)
            assert "numeric" not in str(said.text) and "autograd" not in str(said.text)
        assert said.text.template in table("zh"), said.text.template
    assert rewritten == set(REFERENCE_CAUSES)


def test_the_progress_line_in_chinese():
    import io

    from rich.console import Console

    from gradx.render.check_report import CheckProgress

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    progress = CheckProgress(console, timeout=20.0, lang="zh")
    progress(("start", 0, 1, "d2l_loop"))
    assert progress.describe(12.4) == "正在检查 d2l_loop，已用 12 秒（限时 20 秒）"
    progress(("done", 0, 1, None))
    assert progress.describe(13.0) == "完成"
    progress.__exit__(None, None, None)


INPLACE = """import torch


def inplace_bug(x):
    y = torch.exp(x)
    y.add_(1)
    return y.sum()
"""


def test_an_error_is_explained_in_the_reports_language_and_json_stays_english(
    run_cli, tmp_path, monkeypatch, wide
):
    script = tmp_path / "inplace.py"
    script.write_text(INPLACE, encoding="utf-8")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the locale must not reach the worker's words
    chinese = run_cli("check", str(script)).stdout
    assert "出错 inplace_bug（function，第 4 行）" in chinese
    assert "出错于 inplace.py:5 这行运算的反向传播" in chinese
    assert "解释：求梯度需要的张量被原地修改了（gradx explain-error 有更详细的说明）" in chinese
    english = run_cli("check", str(script), "--lang", "en").stdout
    assert "explained: A tensor needed for the gradient was modified in place" in english
    (target,) = json.loads(run_cli("check", str(script), "--json").stdout)["targets"]
    assert target["error"]["title"] == "A tensor needed for the gradient was modified in place"
    assert target["error"]["fix"].startswith("Replace the in-place operation")
