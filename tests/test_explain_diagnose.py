"""Which cause applies: the script inspection behind ``--run`` (no torch needed here)."""

from __future__ import annotations

import textwrap

import pytest

from gradx.commands.explain.diagnose import diagnose
from gradx.commands.explain.model import SourceLine


def causes(
    entry_id: str, source: str, line: int, *, forward: int | None = None, runtime=None
) -> dict:
    """``{cause: evidence line number}`` for the error raised at ``line`` of ``source``."""
    code = textwrap.dedent(source)
    found = diagnose(
        entry_id,
        where=SourceLine(file="script.py", line=line),
        forward=SourceLine(file="script.py", line=forward) if forward else None,
        runtime=runtime,
        read_source=lambda _file: code,
    )
    return {cause: (evidence.line if evidence else None) for cause, evidence in found.items()}


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(textwrap.dedent(source).splitlines(), 1) if text in line)


NO_GRAD = """
    import torch
    model = torch.nn.Linear(3, 1)
    with torch.no_grad():
        out = model(x)
    loss = out.sum()
    loss.backward()
"""


@pytest.mark.parametrize(
    ("source", "cause", "evidence"),
    [
        (NO_GRAD, "no-grad-block", "with torch.no_grad():"),
        (
            """
            w = torch.randn(3, requires_grad=True)
            feats = (w * x).detach()
            loss = feats.sum()
            loss.backward()
            """,
            "detached",
            "feats = (w * x).detach()",
        ),
        (
            """
            w = torch.randn(3, requires_grad=True)
            value = (w ** 2).sum().item()
            loss = torch.tensor(value)
            loss.backward()
            """,
            "item-or-numpy",
            "value = (w ** 2).sum().item()",
        ),
        (
            """
            logits = model(x)
            predicted = logits.argmax(dim=1)
            loss = (predicted - y).float().pow(2).mean()
            loss.backward()
            """,
            "integer-tensor",
            "predicted = logits.argmax(dim=1)",
        ),
        (
            """
            model = Net()
            for p in model.parameters():
                p.requires_grad = False
            loss = model(x).sum()
            loss.backward()
            """,
            "no-requires-grad",
            "p.requires_grad = False",
        ),
        (
            """
            w = torch.randn(3)
            loss = (x @ w).sum()
            loss.backward()
            """,
            "no-requires-grad",
            "w = torch.randn(3)",
        ),
        (
            """
            @torch.no_grad()
            def predict(x):
                return x * 2
            w = torch.ones(2, requires_grad=True)
            loss = predict(w).sum()
            loss.backward()
            """,
            "no-grad-block",
            "@torch.no_grad()",
        ),
    ],
    ids=["no_grad", "detach", "item", "argmax", "frozen", "forgot", "decorator"],
)
def test_element_0_names_the_cut_in_the_graph(source: str, cause: str, evidence: str):
    found = causes("no-grad-fn", source, line_of(source, "loss.backward()"))
    assert cause in found
    expected = (
        line_of(source, evidence)
        if evidence != "@torch.no_grad()"
        else line_of(source, "def predict")
    )
    assert found[cause] == expected


def test_runtime_facts_show_an_integer_loss():
    source = "loss = compute()\nloss.backward()\n"
    found = causes("no-grad-fn", source, 2, runtime={"loss": {"dtype": "torch.int64"}})
    assert "integer-tensor" in found


def test_modified_in_place_finds_the_change_after_the_forward_line():
    source = """
        y = torch.sigmoid(x)
        z = y * 2
        y.mul_(3)
        loss = (z + y).sum()
        loss.backward()
    """
    found = causes("modified-in-place", source, 6, forward=2)
    assert found == {"in-place-op": 4}


def test_modified_in_place_finds_an_inplace_module():
    source = """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.ReLU(inplace=True)
            def forward(self, x):
                h = torch.sigmoid(self.linear(x))
                return self.act(h)
        loss = Net()(x).sum()
        loss.backward()
    """
    found = causes("modified-in-place", source, 10, forward=7)
    assert found == {"in-place-module": 8}


def test_modified_in_place_finds_an_optimizer_step_between_two_backward_passes():
    source = """
        fake = generator(noise)
        d_loss = discriminator(fake).mean()
        d_loss.backward(retain_graph=True)
        d_optimizer.step()
        g_loss = -discriminator(fake).mean()
        g_loss.backward()
    """
    found = causes("modified-in-place", source, 7, forward=3)
    assert found.get("optimizer-step") == 5


def test_modified_in_place_without_anomaly_information_uses_the_loss_slice():
    source = """
        y = torch.sigmoid(x)
        y += 1
        loss = y.sum()
        loss.backward()
    """
    assert causes("modified-in-place", source, 5) == {"in-place-op": 3}


def test_backward_twice_state_carried_across_iterations():
    source = """
        h = torch.zeros(1, 8)
        for x in data:
            h = cell(x, h)
            loss = head(h).sum()
            loss.backward()
    """
    assert causes("backward-twice", source, 6) == {"state-across-iterations": 4}


def test_backward_twice_value_computed_before_the_loop():
    source = """
        features = encoder(images)
        for epoch in range(3):
            loss = head(features).sum()
            loss.backward()
    """
    assert causes("backward-twice", source, 5) == {"computed-outside-loop": 2}


def test_backward_twice_two_backward_calls():
    source = """
        out = model(x)
        loss_a = out.sum()
        loss_b = out.mean()
        loss_a.backward()
        loss_b.backward()
    """
    assert causes("backward-twice", source, 6) == {"second-backward": 5}


def test_integer_literal_versus_integer_data():
    assert causes("int-requires-grad", "w = torch.tensor([1, 2, 3], requires_grad=True)\n", 1) == {
        "integer-literal": 1
    }
    source = "labels = batch.argmax(1)\nlabels.requires_grad_()\n"
    assert causes("int-requires-grad", source, 2) == {"integer-data": 1}
    assert causes("int-requires-grad", "w = torch.tensor([1.0, 2], requires_grad=True)\n", 1) == {}


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        ("w -= lr * w.grad", "manual-update"),
        ("w.fill_(0.5)", "initialisation"),
        ("torch.nn.init.normal_(w)", "initialisation"),
        ("w *= 2", "differentiable-in-place"),
    ],
)
def test_leaf_in_place_kinds(line: str, cause: str):
    source = f"w = torch.randn(3, requires_grad=True)\n{line}\n"
    assert causes("leaf-in-place", source, 2) == {cause: 2}


def test_view_of_leaf_assignment():
    assert causes("view-of-leaf-in-place", "w[0] = 1.0\n", 1) == {"item-assignment": 1}
    assert causes("view-of-leaf-in-place", "w[0].fill_(1.0)\n", 1) == {"view-method": 1}


def test_non_scalar_backward_reduction_none():
    source = "loss = F.mse_loss(p, t, reduction='none')\nloss.backward()\n"
    assert causes("non-scalar-backward", source, 2) == {"reduction-none": 1}
    assert causes("non-scalar-backward", "scores = model(x)\nscores.backward()\n", 2) == {
        "batch-output": 1
    }


def test_numpy_explicit_or_implicit():
    assert causes("numpy-requires-grad", "a = pred.numpy()\n", 1) == {"explicit-numpy": 1}
    assert causes("numpy-requires-grad", "plt.plot(pred)\n", 1) == {"implicit-conversion": 1}


def test_non_leaf_grad_moved_leaf_or_intermediate():
    moved = "x = torch.randn(3, requires_grad=True).cuda()\nprint(x.grad)\n"
    assert causes("non-leaf-grad-access", moved, 2) == {"moved-leaf": 1}
    intermediate = "h = model(x)\nprint(h.grad)\n"
    assert causes("non-leaf-grad-access", intermediate, 2) == {"intermediate": 1}


def test_view_made_under_no_grad():
    source = """
        with torch.no_grad():
            head = x[:2]
        head.mul_(2)
    """
    assert causes("no-grad-view-in-place", source, 4) == {"view-under-no-grad": 2}


def test_requires_grad_on_a_computed_tensor():
    assert causes("requires-grad-non-leaf", "x_adv = x + d\nx_adv.requires_grad = True\n", 2) == {
        "computed-tensor": 1
    }


def test_unreadable_or_broken_sources_give_no_cause():
    assert causes("no-grad-fn", "def broken(:\n", 1) == {}
    assert (
        diagnose("no-grad-fn", where=SourceLine("missing.py", 3), read_source=lambda f: None) == {}
    )
    assert diagnose("backward-twice", where=None) == {}
    assert causes("vmap-item", "x.item()\n", 1) == {}  # no detector: nothing claimed
