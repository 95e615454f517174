"""Words that ``gradx graph``'s tree (``gradx.render.graph_tree``) and its picture
(``gradx.commands.graph.picture``) share: how each kind of cut is named."""

from __future__ import annotations

from gradx.translations import N_, translate

CUT_WORDS = {
    "detach": ".detach()",
    "data": ".data",
    "data-write": N_("a write through .data"),
    "no_grad": "torch.no_grad()",
    "item": ".item()",
    "tolist": ".tolist()",
    "numpy": ".numpy()",
    "non-differentiable": N_("a non-differentiable operation"),
}


def cut_words(kind: str, lang: str = "en") -> str:
    """``.detach()``, or the words for a cut that is no call, in ``lang`` (an unknown kind is
    named as it is)."""
    return translate(CUT_WORDS.get(kind, kind), lang)
