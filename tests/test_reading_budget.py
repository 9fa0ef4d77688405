"""Part I reads in an afternoon: each of its chapters in about 30 minutes.

Budgets of issue #32: at most 2,200 words of prose and 220 visible code lines in each
Part I chapter, and at most 10,000 words in Part I together. Prose is the words of the
markdown cells (display math and fenced code left out); visible code is the non-blank
lines of the code cells that the rendered page and the notebook show open (support
cells, exercise solutions and the generated first cell are folded, so not counted).
"""

import re

import nbformat
import pytest
import yaml

from book_tools import ROOT

WORDS, CODE_LINES, PART_WORDS = 2200, 220, 10_000
FOLDED = {"hide-input", "hide-cell", "remove-cell", "remove-input", "earlier-chapters"}


def part_one():
    """The notebooks of _toc.yml's first part, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [ROOT / f"{entry['file']}.ipynb" for entry in toc["parts"][0]["chapters"]]


def reading(path):
    """(words of prose, visible code lines) of a notebook."""
    nb = nbformat.read(path, as_version=4)
    words = lines = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            # display math, code blocks and HTML tags (chapter 5's widget) are not
            # prose; the text between the tags is
            text = re.sub(
                r"\$\$.*?\$\$|```.*?```|<[^>]*>", " ", cell.source, flags=re.S
            )
            words += len(text.split())
        elif cell.cell_type == "code" and not FOLDED & set(
            cell.metadata.get("tags", [])
        ):
            lines += sum(1 for line in cell.source.splitlines() if line.strip())
    return words, lines


def test_part_one_is_the_five_chapters_that_build_it():
    names = [p.stem for p in part_one()]
    assert len(names) == 5 and names[0].startswith("01") and names[-1].startswith("05")


@pytest.mark.parametrize("path", part_one(), ids=lambda p: p.stem)
def test_a_part_one_chapter_reads_in_about_30_minutes(path):
    words, lines = reading(path)
    assert words <= WORDS, f"{path.name}: {words:,} words of prose (budget {WORDS:,})"
    assert lines <= CODE_LINES, (
        f"{path.name}: {lines} visible code lines ({CODE_LINES})"
    )


def test_part_one_reads_in_an_afternoon():
    words = {p.stem: reading(p)[0] for p in part_one()}
    assert sum(words.values()) <= PART_WORDS, words
