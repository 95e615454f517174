"""``gradx eval --lang zh``: the table, notes, summary, --quotient and plots in Chinese; JSON and
CSV stay English; the locale decides when --lang is not given.

Golden files: ``GRADX_UPDATE_GOLDEN=1 pytest tests/test_eval_lang.py`` rewrites them (the changed
cases fail once), then review the diff of tests/golden/ and run again without it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from gradx.render.eval_table import wrap_cells
from gradx.translations import phrase

KINKS = ["abs(x) + relu(x)", "--at", "0", "--at", "1", "--at", "x=-0.5"]
WHERE_NAN = ["where(x > 0, sqrt(x), 0)", "--at", "-1"]


def test_zh_table_has_chinese_headings_notes_and_summary(run_cli):
    result = run_cli("eval", *KINKS, "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for heading in ("自动微分", "符号导数", "数值导数", "误差", "状态"):
        assert heading in out, heading
    assert "autograd" not in out and "nondifferentiable " not in out
    assert "说明" in out  # the notes' title
    assert "折点：左导数 -1，右导数 2（relu(x) 位于其分段点）" in out
    assert "torch 自动微分在此处按约定返回 0；sympy 给出 0.5" in out
    # the summary names each status in Chinese, with the English id the JSON and docs use
    summary = out.strip().splitlines()[-2:]
    assert "3 个点：一致 (ok) 2，不可微 (nondifferentiable) 1" in " ".join(summary)
    assert summary[-1].endswith("；最大误差 0")


def test_the_locale_chooses_chinese_and_lang_en_overrides_it(run_cli, monkeypatch):
    english = run_cli("eval", *KINKS).stdout
    explicit = run_cli("eval", *KINKS, "--lang", "zh").stdout
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    from_locale = run_cli("eval", *KINKS)
    assert from_locale.exit_code == 0, from_locale.stderr
    assert from_locale.stdout == explicit
    assert "不可微" in from_locale.stdout
    overridden = run_cli("eval", *KINKS, "--lang", "en")
    assert overridden.stdout == english
    assert "kink: left derivative -1, right derivative 2" in english


def test_where_nan_note_names_the_branch_and_the_fix_in_chinese(run_cli):
    result = run_cli("eval", *WHERE_NAN, "--lang", "zh")
    assert result.exit_code == 1, result.stderr
    text = "".join(result.stdout.split())  # the note is wrapped over several lines
    assert "自动微分给出nan，但导数在此处是有限值（符号导数为0）" in text
    assert "未选中的分支sqrt(x)在此处的导数不是有限值" in text
    assert "用第二个where让该分支保持有限：sqrt(where(x>0,x,1))" in text
    assert "不一致 (mismatch) 1" in result.stdout


def test_domain_note_says_which_function_and_why_in_chinese(run_cli):
    result = run_cli("eval", "log(x)", "--at", "-1", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    assert "log(x)（参数为 -1）：值为 nan，对数在参数 <= 0 时无定义" in result.stdout
    assert "定义域外" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        KINKS,
        WHERE_NAN,
        ["x**2*y + sin(y)", "--at", "x=1,y=2", "--order", "2"],
        ["log(x)", "--range", "-1:1", "--steps", "5"],
    ],
)
def test_json_and_csv_are_english_whatever_the_language(run_cli, monkeypatch, tmp_path, args):
    documents = {}
    tables = {}
    for lang in ("en", "zh", None):
        if lang is None:
            monkeypatch.setenv("LANG", "zh_CN.UTF-8")
        chosen = ("--lang", lang) if lang else ()
        result = run_cli("eval", *args, "--json", *chosen)
        assert result.exit_code in (0, 1), result.stderr
        documents[lang] = result.stdout
        out = tmp_path / f"{lang}.csv"
        assert run_cli("eval", *args, "--csv", str(out), *chosen).exit_code in (0, 1)
        tables[lang] = out.read_text(encoding="utf-8")
    assert documents["en"] == documents["zh"] == documents[None]
    assert tables["en"] == tables["zh"] == tables[None]
    assert not re.search(r"[\u4e00-\u9fff]", documents["zh"] + tables["zh"])


@pytest.mark.parametrize("value", ["fr", "", "chinese"])
def test_unknown_language_is_one_line_and_exit_2(run_cli, value):
    result = run_cli("eval", "x", "--at", "1", "--lang", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: unknown language {value!r}: choose en or zh"
    ]


# Narrow terminals: a Chinese character takes two cells; lines stay within the terminal and a
# number is never split across lines.
NARROW = {
    "eval_kinks_zh": KINKS,
    "eval_domain_and_mismatch_zh": [
        "sqrt(x**2) + log(x + 1)",
        "--at",
        "x=0",
        "--at",
        "x=-2",
        "--at",
        "x=1",
    ],
}


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("name", sorted(NARROW))
def test_zh_output_matches_golden_at_each_width(run_cli, golden, monkeypatch, name, width):
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli("eval", *NARROW[name], "--lang", "zh")
    assert result.exit_code in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    # a note's wrapped line never starts with the rest of a number or with punctuation
    notes = lines[lines.index(next(line for line in lines if line.startswith("说明"))) + 1 :]
    continued = [line.strip() for line in notes if line.startswith(" ")]
    assert continued and not any(re.match(r"[\d.，；）]", line) for line in continued)
    golden(f"{name}_w{width}", result.stdout)


def test_zh_vertical_layout_on_a_very_narrow_terminal(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    result = run_cli("eval", "x**2*y + sin(y)", "--at", "x=1,y=2", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 30
    assert any(re.fullmatch(r"\s*自动微分\s+0\.583853\s*", line) for line in lines)
    assert not any(line.startswith("；") for line in lines)  # punctuation never starts a line


def test_quotient_table_in_chinese(run_cli):
    result = run_cli("eval", "3*x^2 - 4*x", "--at", "1", "--quotient", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "f = 3*x^2 - 4*x，在 x = 1 处（float64）" in out
    assert "f = -1，自动微分 f' = 2" in out
    header = next(line for line in out.splitlines() if line.lstrip().startswith("h "))
    assert header.split() == ["h", "前向差商", "误差", "中心差商", "误差"]
    assert "前向差商 = (f(x+h) - f(x))/h，中心差商 = (f(x+h) - f(x-h))/(2h)" in out
    assert "截断误差" in out and "舍入误差" in out and "理查森外推" in out
    json_en = run_cli("eval", "3*x^2 - 4*x", "--at", "1", "--quotient", "--json").stdout
    json_zh = run_cli(
        "eval", "3*x^2 - 4*x", "--at", "1", "--quotient", "--json", "--lang", "zh"
    ).stdout
    assert json_en == json_zh


def test_quotient_plot_titles_in_chinese(run_cli):
    result = run_cli("eval", "x^2", "--at", "1", "--quotient", "--plot", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    assert "双对数坐标：|前向差商 - 自动微分| 随 h 的变化" in result.stdout
    assert "双对数坐标：|中心差商 - 自动微分| 随 h 的变化" in result.stdout


def test_terminal_plot_in_chinese(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("eval", "sqrt(x)", "--range", "-1:1", "--plot", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    assert "从 x = -1 到 1，共 409 个点。" in out
    assert "░ 在 -1 ≤ x ≤ -0.00490196 上无值（定义域外）" in out
    assert "无值（定义域外）" in out  # the legend of the gap
    assert "x = 0：定义域外 — 导数在此处为 inf" in out


def test_overlay_legend_in_chinese(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("eval", "abs(x)", "--range", "-1:1", "--plot", "--overlay", "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    assert "f' 自动微分" in result.stdout
    assert "◆ 折点" in result.stdout
    assert "x = 0：不可微 — 折点：左导数 -1，右导数 1" in result.stdout


def test_saved_plot_uses_chinese_labels_when_a_font_has_the_glyphs(monkeypatch):
    pytest.importorskip("matplotlib")
    from gradx.commands.eval.pipeline import EvalRequest, PreparedEvaluation
    from gradx.commands.eval.plot_data import collect_plot
    from gradx.render import eval_plot_file

    request = EvalRequest.from_cli(expression="sqrt(x)", ranges=("-1:1",))
    plot = collect_plot(request, PreparedEvaluation(request))
    figure = eval_plot_file.draw_figure(plot, "zh")
    try:
        labels = [t.get_text() for ax in figure.axes for t in ax.get_legend().get_texts()]
        assert "f' 自动微分" in labels and "无值（定义域外）" in labels
        assert "f 及其导数" in figure.get_suptitle()
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    monkeypatch.setattr(eval_plot_file, "cjk_font", lambda: "DejaVu Sans")
    assert eval_plot_file.picture_lang("zh") == "zh"
    assert eval_plot_file.font_notice("zh") is None
    monkeypatch.setattr(eval_plot_file, "cjk_font", lambda: None)
    assert eval_plot_file.picture_lang("zh") == "en"


def test_saved_plot_without_a_chinese_font_stays_english_and_says_so(
    run_cli, monkeypatch, tmp_path
):
    pytest.importorskip("matplotlib")
    from gradx.render import eval_plot_file

    monkeypatch.setattr(eval_plot_file, "cjk_font", lambda: None)
    target = tmp_path / "relu.svg"
    result = run_cli("eval", "relu(x)", "--range", "-2:2", "--save", str(target), "--lang", "zh")
    assert result.exit_code == 0, result.stderr
    assert "未找到含中文字形的字体：图中文字保持英文" in result.stderr
    assert f"已写入 {target}（409 个点）" in result.stderr
    assert "<!-- f' autograd -->" in target.read_text(encoding="utf-8")


def test_a_phrase_inside_a_phrase_is_said_in_the_same_language():
    cause = phrase("division by zero")
    said = phrase("{what}: {cause}", what="1/x = 1 / 0", cause=cause)
    assert str(said) == "1/x = 1 / 0: division by zero"
    assert said.in_lang("zh") == "1/x = 1 / 0：除以零"


@given(
    st.text(
        alphabet=st.sampled_from(list("abc -1.5e") + list("导数自动微分") + ["，", "；"]),
        max_size=120,
    ),
    st.integers(min_value=8, max_value=60),
)
def test_wrapping_by_cells_keeps_every_character_and_the_width(text, width):
    lines = wrap_cells(text, width, indent="  ")
    for line in lines:  # only a run of narrow characters too long for any line sticks out
        longest = max((len(r) for r in re.findall(r"[a-c1.5e-]+", line)), default=0)
        assert cell_len(line) <= width or longest > width - 4, (line, width)
    assert "".join(text.split()) == "".join("".join(lines).split())
    for line in lines[1:]:
        assert line.lstrip()[:1] not in ("，", "；")  # never at the start of a line
    # a run of narrow characters (a number) shorter than the line is never split
    for run in re.findall(r"[a-c1.5e-]+", text):
        if len(run) <= width - 4:
            assert any(run in line for line in lines), (run, lines)


@given(st.text(max_size=20))
def test_any_lang_value_is_a_language_or_one_line_error(value):
    from gradx.errors import ExitCode, GradxError
    from gradx.translations import resolve_lang

    try:
        lang = resolve_lang(value)
    except GradxError as error:
        assert error.exit_code == ExitCode.USAGE
        assert "\n" not in error.message  # the value is quoted with repr()
    else:
        assert lang in ("en", "zh")
