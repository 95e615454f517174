"""Messy pastes: tracebacks, logs, quote prefixes, fences, wrapped lines, several errors."""

from __future__ import annotations

import pytest

from gradx.commands.explain.explainer import explain_text
from gradx.errors import GradxError

ELEMENT_0 = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"

TRACEBACK = """\
Epoch 1/10: 100%|██████████| 938/938 [00:12<00:00, 75.1it/s]
Traceback (most recent call last):
  File "/home/ana/project/train.py", line 42, in <module>
    main()
  File "/home/ana/project/train.py", line 37, in main
    loss.backward()
  File "/home/ana/.venv/lib/python3.11/site-packages/torch/_tensor.py", line 630, in backward
    torch.autograd.backward(
  File "/home/ana/.venv/lib/python3.11/site-packages/torch/autograd/__init__.py", line 364, in backward
    _engine_run_backward(
RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
"""


def ids(text: str) -> list[str]:
    return [f.entry_id for f in explain_text(text, "en").findings]


def test_a_traceback_points_at_the_users_innermost_frame():
    finding = explain_text(TRACEBACK, "en").primary
    assert finding.entry_id == "no-grad-fn"
    assert finding.message == ELEMENT_0
    assert (finding.where.file, finding.where.line) == ("/home/ana/project/train.py", 37)
    assert finding.where.source == "loss.backward()"
    assert [f.library for f in finding.frames] == [False, False, True, True]


@pytest.mark.parametrize(
    "prefix", ["> ", ">> ", "[rank0]: ", "[rank 3]:", "*** ", "E   ", "    "], ids=repr
)
def test_quote_and_launcher_prefixes_on_every_line_are_ignored(prefix: str):
    quoted = "\n".join(prefix + line for line in TRACEBACK.splitlines())
    explanation = explain_text(quoted, "en")
    assert explanation.primary.entry_id == "no-grad-fn"
    assert explanation.primary.where.line == 37


def test_markdown_fences_colours_and_backticks_are_ignored():
    text = (
        "I get this, any idea?\n```python\n\x1b[31mRuntimeError\x1b[0m: `element 0 of tensors` "
        "does not require grad and does not have a `grad_fn`\n```\nthanks"
    )
    assert ids(text) == ["no-grad-fn"]


def test_a_message_wrapped_over_lines_and_split_mid_word_is_recognised():
    wrapped = (
        "RuntimeError: one of the variables needed for gradient computation has been modif\n"
        "ied by an inplace operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is\n"
        "at version 1; expected version 0 instead."
    )
    assert ids(wrapped) == ["modified-in-place"]


def test_a_message_without_the_exception_name_is_recognised():
    assert ids("grad can be implicitly created only for scalar outputs") == ["non-scalar-backward"]


def test_a_traceback_that_ends_at_the_raise_line_is_recognised():
    text = (
        '  File "torch/autograd/__init__.py", line 88, in _make_grads\n'
        '    raise RuntimeError("grad can be implicitly created only for scalar outputs")\n'
    )
    assert ids(text) == ["non-scalar-backward"]


def test_several_errors_in_one_paste_are_all_explained_errors_first():
    text = (
        "/home/ana/train.py:12: UserWarning: The .grad attribute of a Tensor that is not a leaf "
        "Tensor is being accessed. Its .grad attribute won't be populated during "
        "autograd.backward().\n"
        "  print(h.grad)\n"
        "RuntimeError: Trying to backward through the graph a second time (or directly access "
        "saved tensors after they have already been freed).\n"
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
    )
    explanation = explain_text(text, "en")
    assert [f.entry_id for f in explanation.findings] == ["backward-twice", "non-leaf-grad-access"]
    assert explanation.unrecognised == (
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
    )


def test_a_repeated_warning_is_one_finding_with_a_count():
    line = (
        "/home/ana/train.py:12: UserWarning: The .grad attribute of a Tensor that is not a leaf "
        "Tensor is being accessed.\n"
    )
    explanation = explain_text(line * 250, "en")
    (finding,) = explanation.findings
    assert finding.entry_id == "non-leaf-grad-access"
    assert finding.count == 250
    assert explanation.unrecognised == ()


def test_the_longer_message_wins_when_one_contains_another():
    text = "RuntimeError: a view of a leaf Variable that requires grad is being used in an in-place operation."
    assert ids(text) == ["view-of-leaf-in-place"]


def test_anomaly_traceback_gives_the_forward_line_of_the_error_that_follows():
    text = """\
/venv/lib/python3.11/site-packages/torch/autograd/graph.py:829: UserWarning: Error detected in SigmoidBackward0. Traceback of forward call that caused the error:
  File "/home/ana/net.py", line 5, in <module>
    y = x.sigmoid()
 (Triggered internally at /pytorch/torch/csrc/autograd/python_anomaly_mode.cpp:122.)
  return Variable._execution_engine.run_backward(  # Calls into the C++ engine
Traceback (most recent call last):
  File "/home/ana/net.py", line 7, in <module>
    y.sum().backward()
RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of Sigmoid, is at version 1; expected version 0 instead. Hint: the backtrace further above shows the operation that failed to compute its gradient. The variable in question was changed in there or anywhere later. Good luck!
"""
    (finding,) = explain_text(text, "en").findings
    assert finding.entry_id == "modified-in-place"
    assert (finding.where.line, finding.forward.line) == (7, 5)
    assert finding.forward.source == "y = x.sigmoid()"
    assert dict(finding.details) == {
        "tensor": "torch.FloatTensor",
        "shape": "3",
        "output": "0",
        "node": "Sigmoid",
        "version": "1",
        "expected": "0",
    }


def test_the_anomaly_warning_alone_is_explained_as_such():
    text = (
        "UserWarning: Error detected in SoftmaxBackward0. No forward pass information available. "
        "Enable detect anomaly during forward pass for more information."
    )
    assert ids(text) == ["anomaly-forward-trace"]


def test_an_ipython_traceback_is_understood():
    text = """\
---------------------------------------------------------------------------
RuntimeError                              Traceback (most recent call last)
Cell In[7], line 3
      1 w = torch.randn(3, requires_grad=True)
      2 loss = (w ** 2).sum()
----> 3 w -= 0.1
RuntimeError: a leaf Variable that requires grad is being used in an in-place operation.
"""
    finding = explain_text(text, "en").primary
    assert finding.entry_id == "leaf-in-place"
    assert (finding.where.file, finding.where.line, finding.where.source) == (
        "Cell In[7]",
        3,
        "w -= 0.1",
    )


IPYTHON_8 = """\
---------------------------------------------------------------------------
RuntimeError                              Traceback (most recent call last)
Cell In[3], line 2
      1 x = torch.ones(3)
----> 2 (x*2).sum().backward()

File ~/venv/lib/python3.11/site-packages/torch/_tensor.py:626, in Tensor.backward(self, gradient, retain_graph, create_graph, inputs)
    616 if has_torch_function_unary(self):
--> 626 torch.autograd.backward(
    627     self, gradient, retain_graph, create_graph, inputs=inputs
    628 )

RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
"""

IPYTHON_7 = """\
RuntimeError                              Traceback (most recent call last)
<ipython-input-3-5d7f0c2e1b3a> in <module>
      1 x = torch.ones(3)
----> 2 (x*2).sum().backward()

~/venv/lib/python3.8/site-packages/torch/tensor.py in backward(self, gradient, retain_graph, create_graph)
--> 221         torch.autograd.backward(self, gradient, retain_graph, create_graph)

RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn
"""


@pytest.mark.parametrize(
    ("text", "cell"), [(IPYTHON_8, "Cell In[3]"), (IPYTHON_7, "<ipython-input-3-5d7f0c2e1b3a>")]
)
def test_jupyter_tracebacks_point_at_the_cell_line(text: str, cell: str):
    finding = explain_text(text, "en").primary
    assert finding.entry_id == "no-grad-fn"
    assert (finding.where.file, finding.where.line, finding.where.source) == (
        cell,
        2,
        "(x*2).sum().backward()",
    )
    assert [frame.library for frame in finding.frames] == [False, True]


def test_a_log_line_that_looks_like_an_ipython_frame_is_not_one():
    text = "loading weights.py in background\n" + ELEMENT_0
    assert explain_text(text, "en").primary.where is None


def test_none_grad_is_an_autograd_error_only_next_to_dot_grad():
    with_grad = "    p.grad.zero_()\nAttributeError: 'NoneType' object has no attribute 'zero_'"
    without = "    cache.zero_()\nAttributeError: 'NoneType' object has no attribute 'zero_'"
    assert ids(with_grad) == ["grad-is-none"]
    assert ids(without) == []


def test_old_and_new_node_names_are_both_recognised():
    for node in ("SigmoidBackward", "SigmoidBackward0", "Sigmoid"):
        text = (
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [torch.cuda.FloatTensor [10, 49]], which is output 0 of {node}, "
            "is at version 2; expected version 1 instead."
        )
        (finding,) = explain_text(text, "en").findings
        assert dict(finding.details)["node"] == node


def test_a_multi_megabyte_log_with_the_error_at_the_end_is_recognised():
    noise = "step 1234 | loss 0.4312 | lr 3.0e-04 | grad_norm 1.23 | tokens/s 15000\n" * 60_000
    explanation = explain_text(noise + TRACEBACK, "en")
    assert explanation.primary.entry_id == "no-grad-fn"
    assert explanation.primary.where.line == 37


def test_a_log_full_of_one_message_is_counted_not_matched_one_by_one():
    line = "RuntimeError: grad can be implicitly created only for scalar outputs\n"
    (finding,) = explain_text(line * 20_000, "en").findings
    assert finding.count == 20_000


def test_empty_input_is_a_usage_error():
    with pytest.raises(GradxError, match="empty") as caught:
        explain_text("  \n\t\n", "en")
    assert int(caught.value.exit_code) == 2


def test_binary_garbage_is_a_usage_error():
    garbage = bytes(range(256)).decode("latin-1") * 50
    with pytest.raises(GradxError, match="binary"):
        explain_text(garbage, "en")


def test_binary_data_with_a_recognisable_message_is_still_explained():
    blob = "\x00\x01\x02\x03" * 2000 + "\n" + ELEMENT_0 + "\n" + "\x00\x07" * 500
    assert ids(blob) == ["no-grad-fn"]


def test_text_without_any_error_gets_general_advice():
    explanation = explain_text("hello, my model trains but the loss is stuck", "en")
    assert not explanation.recognised and explanation.advice
    assert explanation.unrecognised == ()


def test_chinese_explanations():
    finding = explain_text(ELEMENT_0, "zh").primary
    assert finding.title == "损失不需要梯度（element 0 of tensors …）"
    assert "计算图" in finding.explanation


def test_frames_naming_devices_or_missing_files_are_not_read():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/dev/zero", line 1, in <module>\n'
        '  File "/no/such/file.py", line 3, in main\n'
        f"{ELEMENT_0}\n"
    )
    finding = explain_text(text, "en").primary
    assert (finding.where.file, finding.where.source) == ("/no/such/file.py", "")
    assert not any(cause.applies for cause in finding.causes)


def test_a_huge_single_line_log_keeps_its_end():
    line = '{"step": 1, "loss": 0.25}, ' * 200_000 + '{"error": "' + ELEMENT_0 + '"}'
    assert explain_text(line, "en").primary.entry_id == "no-grad-fn"
