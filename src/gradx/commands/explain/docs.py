"""Generate ``docs/errors.md`` from the catalog: ``python -m gradx.commands.explain.docs docs/errors.md``.

``--check`` compares instead of writing (exit 1 when the page is out of date), for CI; the test
suite checks the same thing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gradx.commands.explain.catalog import Catalog, CatalogEntry, load_catalog

_HEADER = """# Autograd errors explained by gradx

<!-- Generated from src/gradx/commands/explain/catalog.toml by `python -m gradx.commands.explain.docs docs/errors.md`. Do not edit by hand. -->

`gradx explain-error` recognises the {count} autograd errors and warnings below ({errors} errors,
{warnings} warnings). Give it a message, a traceback or a whole log, an id from this page
(`gradx explain-error backward-twice`), or let it run your script
(`gradx explain-error --run train.py`); see [explain-error.md](explain-error.md).
The first message of each entry is the wording of torch 2.13; the others are older wordings it
also recognises. Every entry is also available in Simplified Chinese (`--lang zh`, 中文).

| id | kind | title |
| --- | --- | --- |
"""


def render_markdown(catalog: Catalog) -> str:
    """The whole ``errors.md`` page for ``catalog``."""
    errors = sum(1 for entry in catalog.entries if entry.kind == "error")
    parts = [
        _HEADER.format(
            count=len(catalog.entries), errors=errors, warnings=len(catalog.entries) - errors
        )
    ]
    for entry in catalog.entries:
        parts.append(f"| [`{entry.id}`](#{entry.id}) | {entry.kind} | {_cell(entry.title.en)} |\n")
    for entry in catalog.entries:
        parts.append(_entry_markdown(entry))
    return "".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _entry_markdown(entry: CatalogEntry) -> str:
    lines = [
        "",
        f'<a id="{entry.id}"></a>',
        "",
        f"## `{entry.id}`: {entry.title.en}",
        "",
        f"{entry.kind.capitalize()} (`{entry.exception}`). {entry.summary.en}",
        "",
        "Message (torch 2.13):",
        "",
        "```text",
        entry.examples[0].strip(),
        "```",
    ]
    if len(entry.examples) > 1:
        lines += ["", "Also recognised:", "", "```text"]
        for example in entry.examples[1:]:
            lines.append(example.strip())
        lines.append("```")
    lines += ["", "**What happened.** " + entry.explanation.en]
    if entry.causes:
        lines += ["", "**Possible causes.**", ""]
        lines += [f"- {cause.text.en}" for cause in entry.causes]
    lines += [
        "",
        "**How to fix.** " + entry.fix.en,
        "",
        "Before:",
        "",
        "```python",
        entry.before,
        "```",
        "",
        "After:",
        "",
        "```python",
        entry.after,
        "```",
        "",
        "Docs: " + ", ".join(f"<{url}>" for url in entry.docs),
        "",
        "<details><summary>中文</summary>",
        "",
        f"**{entry.title.zh}**:{entry.summary.zh}",
        "",
        entry.explanation.zh,
    ]
    if entry.causes:
        lines += [""]
        lines += [f"- {cause.text.zh}" for cause in entry.causes]
    lines += ["", entry.fix.zh, "", "</details>", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) the page; prints to stdout without a path."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    page = render_markdown(load_catalog())
    if not paths:
        sys.stdout.write(page)
        return 0
    path = Path(paths[0])
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != page:
            print(
                f"{path} is out of date: run python -m gradx.commands.explain.docs {path}",
                file=sys.stderr,
            )
            return 1
        return 0
    path.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
