"""The script inspection and the catalog agree: detectors are keyed and answer in catalog ids.

``diagnose._DETECTORS`` maps a catalog entry id to the function that inspects the user's script
for that entry; the function returns the ids of the entry's causes it found evidence for. Both
sets of ids are data in catalog.toml, so a renamed id would silently disable a detector.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from gradx.commands.explain import diagnose
from gradx.commands.explain.catalog import load_catalog

CATALOG = load_catalog()


def cause_ids_returned(source: str) -> set[str]:
    """Every cause id a detector's source can return: keys of the dicts it returns (literals,
    or a variable filled by ``found.setdefault(id, …)`` and ``found[id] = …``). A key that is
    not a string literal fails: it could not be checked.
    """
    tree = ast.parse(textwrap.dedent(source))
    returned = [
        node.value for node in ast.walk(tree) if isinstance(node, ast.Return) and node.value
    ]
    names = {
        node.id for value in returned for node in ast.walk(value) if isinstance(node, ast.Name)
    }
    literals = {
        id(node) for value in returned for node in ast.walk(value) if isinstance(node, ast.Dict)
    }
    keys: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and id(node) in literals:
            keys.extend(node.keys)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in names
        ):
            keys.append(node.args[0])
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            keys.append(node.slice)
    ids: set[str] = set()
    for key in keys:
        assert isinstance(key, ast.Constant) and isinstance(key.value, str), (
            f"a cause id that is not a literal: {ast.unparse(key) if key else '**'}"
        )
        ids.add(key.value)
    return ids


def test_the_reader_of_detectors_sees_every_way_to_name_a_cause():
    source = """
    def detector(script, statement, forward, runtime):
        found = {}
        found.setdefault("a", None)
        found["b"] = None
        return found or {"c": None}
    """
    assert cause_ids_returned(source) == {"a", "b", "c"}
    with pytest.raises(AssertionError, match="not a literal"):
        cause_ids_returned("def d(found, name):\n    found[name] = 1\n    return found\n")


def test_every_detector_is_keyed_by_a_catalog_id():
    assert set(diagnose._DETECTORS) <= set(CATALOG.ids)


@pytest.mark.parametrize("entry_id", sorted(diagnose._DETECTORS))
def test_every_cause_a_detector_returns_belongs_to_its_entry(entry_id):
    entry = CATALOG.get(entry_id)
    assert entry is not None
    returned = cause_ids_returned(inspect.getsource(diagnose._DETECTORS[entry_id]))
    assert returned, f"{entry_id}: the detector names no cause"
    assert returned <= {cause.id for cause in entry.causes}
