"""Shared code has one source (the exporting cell) and generated copies that must match
it.
"""

import ast
import shutil

import nbformat

from book_tools import ROOT, sync_exports


def test_generated_cells_match_their_sources():
    assert sync_exports.problems() == []


def test_later_chapters_carry_the_quiet_set_up():
    """Every later chapter starts as chapter 1 does: TensorFlow imported quietly,
    then Keras, NumPy and the devices printed."""
    for path in sync_exports.chapters()[1:]:
        nb = nbformat.read(path, as_version=4)
        generated = nb.cells[sync_exports.find_target(nb)].source
        assert "def import_tensorflow_quietly" in generated, path.name
        quiet = generated.index("tf = import_tensorflow_quietly()")
        assert quiet < generated.index("import keras"), path.name


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


def generated_cells():
    """{chapter: its generated first cell}, for the chapters that have one."""
    found = {}
    for path in sync_exports.chapters():
        nb = nbformat.read(path, as_version=4)
        index = sync_exports.find_target(nb)
        if index is not None:
            found[path.name] = nb.cells[index].source
    return found


def test_the_generated_cells_carry_only_what_their_chapters_use():
    """Budget of issue #31: at most 2,500 lines together and 800 in the appendix, set
    for the chapters of that time; chapter 6, added later, uses most of what chapters
    1 to 5 teach, and has a budget of its own."""
    lines = {
        name: len(source.splitlines()) for name, source in generated_cells().items()
    }
    engineered = lines.pop("06_training_engineered.ipynb")
    assert sum(lines.values()) <= 2500, lines
    assert lines["08_distributed_training.ipynb"] <= 800, lines
    assert engineered <= 900, engineered


def test_a_name_a_chapter_reads_is_defined_by_its_generated_cell():
    """Whatever a chapter's cells read of the earlier chapters' code, its first cell
    defines (the pruning misses nothing)."""
    parsed = sync_exports.read_book()
    for path in parsed.paths[1:]:
        earlier = {
            name
            for p in parsed.paths[: parsed.paths.index(path)]
            for st in parsed.statements[p.name]
            for name in st.defines
        }
        source = sync_exports.generated_source(parsed, path)
        defined = set().union(
            *(
                st.defines
                for _, sts in [sync_exports.split_statements(path.name, 0, source)]
                for st in sts
            )
        )
        missing = (parsed.reads[path.name] & earlier) - defined
        assert not missing, f"{path.name} reads {sorted(missing)}"


def test_the_package_is_generated_from_the_export_cells():
    assert sync_exports.package_problems(sync_exports.read_book()) == []


def test_a_stale_package_file_is_detected(tmp_path):
    package = tmp_path / "rnnbook"
    shutil.copytree(ROOT / "rnnbook", package)
    module = package / "ch02_data.py"
    module.write_text(module.read_text() + "\nx = 1\n")
    found = sync_exports.package_problems(sync_exports.read_book(), package)
    assert any("ch02_data.py" in p for p in found), found
    sync_exports.write_package(sync_exports.read_book(), package)
    assert sync_exports.package_problems(sync_exports.read_book(), package) == []


def test_each_module_imports_what_it_reads_from_the_earlier_ones():
    """A structure drawing finds the imports: chapter 5's sampling module imports
    chapter 3's fused model, for example, and nothing runs code by exec."""
    source = (ROOT / "rnnbook" / "ch05_sampling.py").read_text()
    assert "from rnnbook.ch03_model import FusedCharLSTM" in source
    for path in (ROOT / "rnnbook").glob("*.py"):
        calls = ast.walk(ast.parse(path.read_text()))
        names = {
            c.func.id
            for c in calls
            if isinstance(c, ast.Call) and hasattr(c.func, "id")
        }
        assert not names & {"exec", "eval"}, path.name
