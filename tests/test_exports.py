"""Shared code has one source (the exporting cell) and generated copies that must match
it.
"""

import shutil

import nbformat

from book_tools import ROOT, sync_exports


def test_generated_cells_match_their_sources():
    assert sync_exports.problems() == []


def test_later_chapters_carry_the_exports():
    chapters = sync_exports.chapters()
    first_exports = sync_exports.exported_sources(
        nbformat.read(chapters[0], as_version=4)
    )
    assert first_exports, "chapter 1 exports the set-up cell"
    for path in chapters[1:]:
        nb = nbformat.read(path, as_version=4)
        generated = nb.cells[sync_exports.find_target(nb)].source
        assert first_exports[0] in generated, path.name


def test_the_generated_cell_opens_folded_in_colab():
    """Colab form view: a `# @title` first line and the cell metadata cellView=form."""
    for path in sync_exports.chapters()[1:]:
        nb = nbformat.read(path, as_version=4)
        cell = nb.cells[sync_exports.find_target(nb)]
        first_line = cell.source.splitlines()[0]
        assert (
            first_line.startswith("# @title ") and "run this cell first" in first_line
        )
        assert cell.metadata.get("cellView") == "form", path.name
        assert "hide-input" in cell.metadata["tags"], path.name


def test_a_copy_without_colab_form_view_is_detected(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    path = sync_exports.chapters(book)[2]
    nb = nbformat.read(path, as_version=4)
    del nb.cells[sync_exports.find_target(nb)].metadata["cellView"]
    nbformat.write(nb, path)
    found = sync_exports.problems(book)
    assert any("form view" in p and path.name in p for p in found)
    assert sync_exports.sync(book) == [path]
    assert sync_exports.problems(book) == []


def test_a_stale_copy_is_detected(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    path = sync_exports.chapters(book)[1]
    nb = nbformat.read(path, as_version=4)
    nb.cells[sync_exports.find_target(nb)].source += "\nx = 1"
    nbformat.write(nb, path)
    assert any(path.name in p for p in sync_exports.problems(book))
    assert sync_exports.sync(book) == [path]
    assert sync_exports.problems(book) == []
