"""Guarded notebook writes (scripts/notebook_io.py): a script that read a notebook
writes it back only if nobody changed it in the meantime, so that an edit a reader
saved in Jupyter while the script ran is never lost."""

import nbformat
import pytest

import run_notebooks
import set_repository
from notebook_io import NotebookChanged, read_notebook, write_notebook


def notebook_file(path, *sources):
    """A notebook of code cells, saved at path as Jupyter would save it."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def save_an_edit(path):
    """What a reader's Jupyter does meanwhile: save the notebook with a new cell."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A note I must not lose."))
    nbformat.write(nb, path)
    return path.read_bytes()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_notebook_nobody_changed_is_written(tmp_path):
    path = notebook_file(tmp_path / "chapter.ipynb", "x = 1")
    path.chmod(0o640)
    nb, token = read_notebook(path)
    nb.cells[0].source = "x = 2"
    write_notebook(path, nb, token)
    assert nbformat.read(path, as_version=4).cells[0].source == "x = 2"
    assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n"
    assert path.stat().st_mode & 0o777 == 0o640  # the file's mode is kept
    assert not leftovers(tmp_path)  # no temporary file left beside it


def test_a_notebook_changed_since_it_was_read_is_not_written(tmp_path):
    path = notebook_file(tmp_path / "chapter.ipynb", "x = 1")
    nb, token = read_notebook(path)
    nb.cells[0].source = "x = 2"
    edited = save_an_edit(path)
    with pytest.raises(NotebookChanged, match="chapter.ipynb changed on disk") as err:
        write_notebook(path, nb, token)
    assert "run the script again" in str(err.value)
    assert isinstance(err.value, RuntimeError)
    assert path.read_bytes() == edited  # the reader's edit, untouched
    assert not leftovers(tmp_path)


def test_a_notebook_deleted_since_it_was_read_is_not_written_back(tmp_path):
    path = notebook_file(tmp_path / "chapter.ipynb", "x = 1")
    nb, token = read_notebook(path)
    path.unlink()
    with pytest.raises(NotebookChanged):
        write_notebook(path, nb, token)
    assert not path.exists() and not leftovers(tmp_path)


def test_run_notebooks_keeps_an_edit_saved_while_the_notebook_ran(tmp_path):
    """The notebook's own first cell saves an edit to it, as a reader's Jupyter
    would while run_notebooks.py executes it: the run is refused, the edit kept."""
    path = tmp_path / "chapter.ipynb"
    edit = (
        "import nbformat\n"
        f"nb = nbformat.read({str(path)!r}, as_version=4)\n"
        "nb.cells.append(nbformat.v4.new_markdown_cell('A note I must not lose.'))\n"
        f"nbformat.write(nb, {str(path)!r})"
    )
    notebook_file(path, edit, "print('ran')")
    with pytest.raises(NotebookChanged, match="chapter.ipynb"):
        run_notebooks.execute(path, timeout=60)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[-1].source == "A note I must not lose."
    assert not any(cell.get("outputs") for cell in cells)  # no result written over it
    assert not leftovers(tmp_path)


def test_set_repository_writes_nothing_when_a_chapter_was_edited_meanwhile(
    tmp_path, monkeypatch
):
    """A chapter saved between set_repository's read and its write: no file changes,
    not even _config.yml or the README, and the chapter keeps the edit."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/05_sampling\n"
    )
    (root / "book" / "intro.md").write_text("# Intro\n")
    chapter = notebook_file(
        root / "book" / "05_sampling.ipynb",
        'PUBLISHED_URL = (\n    "https://raw.githubusercontent.com/o/r/main/"\n)',
    )
    nb = nbformat.read(chapter, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Diversity sampling"))
    nbformat.write(nb, chapter)
    config = "repository:\n  url: https://github.com/o/r\n  branch: main\n"
    (root / "_config.yml").write_text(config)
    readme = "# Book\n<!-- chapters:start -->\n<!-- chapters:end -->\n"
    (root / "README.md").write_text(readme)

    read = set_repository.notebooks_with_url
    edited = {}

    def read_then_edited(*args, **kwargs):
        found = read(*args, **kwargs)
        edited["bytes"] = save_an_edit(chapter)  # the reader saves meanwhile
        return found

    monkeypatch.setattr(set_repository, "notebooks_with_url", read_then_edited)
    with pytest.raises(NotebookChanged, match="05_sampling.ipynb"):
        set_repository.set_repository("https://github.com/o/fork", "main", root=root)
    assert chapter.read_bytes() == edited["bytes"]
    assert (root / "_config.yml").read_text() == config
    assert (root / "README.md").read_text() == readme
