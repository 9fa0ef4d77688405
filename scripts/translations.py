#!/usr/bin/env python3
"""The Chinese edition of Part I, generated from the English notebooks and one
translation file per chapter.

Each chapter of Part I (the first part of _toc.yml) has a translation file,
zh/translations/NN_name.yml, keyed by the id of each English markdown cell:

    cells:
      7bcf0ae5:
        sha256: 3f2a...      # of the English text below
        en: |-               # the English text that zh translates
          # How a recurrent network works
        zh: |-
          # 循环神经网络如何工作

The Chinese notebook zh/NN_name.ipynb is the English notebook with each markdown cell's
text replaced by its translation: code cells, their outputs and their metadata, the
cells' ids and the notebook's metadata stay the English notebook's, byte for byte.
Code comments stay in English.

    python scripts/translations.py              # regenerate the Chinese notebooks
    python scripts/translations.py --check      # exit 1 if a translation is stale
    python scripts/translations.py diff 03_model 81ec130b
                                                # what changed in the English cell
    python scripts/translations.py accept 03_model 81ec130b
                                                # after updating its zh text
    python scripts/translations.py new 03_model # entries for untranslated cells

A chapter's Chinese notebook is regenerated only while every English markdown cell
has a translation of its current text; otherwise the script lists the cells to
translate, and the Chinese notebook keeps its last good version (and the test suite
fails until the translation is brought up to date). scripts/sync_exports.py runs this
after the package, so `make sync` does both.
"""

import argparse
import copy
import difflib
import hashlib
import sys
from pathlib import Path

import nbformat
import yaml

from notebook_io import FileChanged, read_notebook, read_text, write_file
from sync_exports import ROOT

ZH = ROOT / "zh"
TRANSLATIONS = ZH / "translations"


def part_one(root=ROOT):
    """The English notebooks of _toc.yml's first part, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [root / f"{entry['file']}.ipynb" for entry in toc["parts"][0]["chapters"]]


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (|-), which translators can edit."""


def _represent_str(dumper, text):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


BlockDumper.add_representer(str, _represent_str)

HEADER = """\
# The Chinese translation of {english}, one entry per English markdown cell, keyed
# by the cell's id: `en` is the English text that `zh` translates, `sha256` its hash.
# scripts/translations.py generates {chinese} from the English notebook and this file.
"""


def translation_file(english):
    return TRANSLATIONS / f"{Path(english).stem}.yml"


def chinese_notebook(english, zh=ZH):
    return zh / Path(english).name


def load(path):
    """{cell id: {"sha256", "en", "zh"}} of a translation file ({} if none)."""
    if not Path(path).is_file():
        return {}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return data.get("cells") or {}


def dump(english, entries):
    """The text of a translation file."""
    head = HEADER.format(
        english=f"book/{Path(english).name}", chinese=f"zh/{Path(english).name}"
    )
    body = yaml.dump(
        {"cells": entries}, Dumper=BlockDumper, allow_unicode=True, sort_keys=False,
        width=1000,
    )  # fmt: skip
    return head + body


def markdown_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "markdown"]


def chapter_problems(english, nb, entries):
    """What keeps a chapter's Chinese notebook from being generated: one line per
    cell, naming it and the command that shows or fixes it."""
    stem, found = Path(english).stem, []
    file = translation_file(english).relative_to(ROOT).as_posix()
    ids = set()
    for k, cell in enumerate(markdown_cells(nb)):
        ids.add(cell.id)
        entry = entries.get(cell.id)
        where = (
            f"{file}: cell {cell.id} (markdown cell {k + 1} of {Path(english).name})"
        )
        if entry is None:
            found.append(
                f"{where} has no translation; add one with python "
                f"scripts/translations.py new {stem}, and translate its zh text"
            )
        elif not (entry.get("zh") or "").strip():
            found.append(f"{where} is not translated yet: write its zh text")
        elif entry.get("sha256") != sha256(cell.source):
            found.append(
                f"{where}: the English changed since it was translated. See what "
                f"changed: python scripts/translations.py diff {stem} {cell.id}; "
                "update its zh text, then: python scripts/translations.py accept "
                f"{stem} {cell.id}"
            )
    for orphan in sorted(set(entries) - ids):
        found.append(
            f"{file}: cell {orphan} is no longer in {Path(english).name}: delete it"
        )
    return found


def chinese(nb, entries):
    """The Chinese notebook: the English one, each markdown cell's text translated."""
    zh = copy.deepcopy(nb)
    for cell in markdown_cells(zh):
        cell.source = entries[cell.id]["zh"]
    return zh


def notebook_text(nb):
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def problems(root=ROOT, zh=ZH):
    """Every stale or missing translation, and every Chinese notebook that differs
    from what the English and its translation generate."""
    found = []
    for english in part_one(root):
        nb = nbformat.read(english, as_version=4)
        entries = load(translation_file(english))
        stale = chapter_problems(english, nb, entries)
        found += stale
        target = chinese_notebook(english, zh)
        if stale:
            continue
        if not target.is_file():
            found.append(f"{target.relative_to(root)} is missing: run {COMMAND}")
        elif target.read_text(encoding="utf-8") != notebook_text(chinese(nb, entries)):
            found.append(f"{target.relative_to(root)} is stale: run {COMMAND}")
    return found


COMMAND = "python scripts/translations.py (or make sync)"


def sync(root=ROOT, zh=ZH):
    """Regenerate each Chinese notebook whose translation is complete and current;
    return (the notebooks written, the problems of the others)."""
    written, found = [], []
    for english in part_one(root):
        nb, _ = read_notebook(english)
        entries = load(translation_file(english))
        stale = chapter_problems(english, nb, entries)
        if stale:
            found += stale
            continue
        target = chinese_notebook(english, zh)
        current, token = read_text(target)
        text = notebook_text(chinese(nb, entries))
        if current != text:
            write_file(target, text, token)
            written.append(target)
    return written, found


def diff(stem, cell_id):
    english = ROOT / "book" / f"{stem}.ipynb"
    nb = nbformat.read(english, as_version=4)
    cell = next((c for c in markdown_cells(nb) if c.id == cell_id), None)
    entry = load(translation_file(english)).get(cell_id)
    if cell is None or entry is None:
        return f"no markdown cell {cell_id} in {english.name} with a translation"
    lines = difflib.unified_diff(
        (entry.get("en") or "").splitlines(), cell.source.splitlines(),
        "translated from", "English now", lineterm="",
    )  # fmt: skip
    return "\n".join(lines) or "the English has not changed"


def update_file(english, change):
    """Apply change(entries, nb) to a chapter's translation file, through the guard."""
    path = translation_file(english)
    text, token = read_text(path)
    entries = load(path) if text else {}
    nb = nbformat.read(english, as_version=4)
    change(entries, nb)
    order = [c.id for c in markdown_cells(nb)]
    ordered = {i: entries[i] for i in order if i in entries}
    ordered |= {i: e for i, e in entries.items() if i not in ordered}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, dump(english, ordered), token)


def accept(stem, cell_id):
    """Record that the zh text of cell_id translates the English as it is now."""

    def change(entries, nb):
        cell = next(c for c in markdown_cells(nb) if c.id == cell_id)
        entries[cell_id]["en"] = cell.source
        entries[cell_id]["sha256"] = sha256(cell.source)

    update_file(ROOT / "book" / f"{stem}.ipynb", change)


def new(stem):
    """An entry, with an empty zh text, for each English markdown cell without one."""

    def change(entries, nb):
        for cell in markdown_cells(nb):
            if cell.id not in entries:
                entries[cell.id] = {
                    "sha256": sha256(cell.source), "en": cell.source, "zh": "",
                }  # fmt: skip

    update_file(ROOT / "book" / f"{stem}.ipynb", change)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="report; change nothing")
    parser.add_argument("action", nargs="?", choices=["diff", "accept", "new"])
    parser.add_argument("chapter", nargs="?", help="e.g. 03_model")
    parser.add_argument("cell", nargs="?", help="a markdown cell's id")
    args = parser.parse_args(argv)
    if args.action == "diff":
        print(diff(args.chapter, args.cell))
        return 0
    if args.action in ("accept", "new"):
        try:
            accept(args.chapter, args.cell) if args.action == "accept" else new(
                args.chapter
            )
        except FileChanged as err:
            print(f"error: {err}")
            return 1
        return 0
    if args.check:
        found = problems()
        print("\n".join(found) or "The Chinese edition follows the English.")
        return 1 if found else 0
    try:
        written, found = sync()
    except FileChanged as err:
        print(f"error: {err}")
        return 1
    for path in written:
        print(f"updated {path.relative_to(ROOT)}")
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
