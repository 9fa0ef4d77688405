"""Shared code has one source (the exporting cell) and generated copies that must match
it.
"""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import names
from book_tools import ROOT, sync_exports


def test_generated_cells_match_their_sources():
    assert sync_exports.problems() == []


def test_later_chapters_carry_the_quiet_set_up():
    """Every later chapter starts as chapter 1 does: TensorFlow imported quietly,
    then Keras, NumPy and the devices printed."""
    for path in sync_exports.chapters()[1:]:
        nb = nbformat.read(path, as_version=4)
        generated = nb.cells[sync_exports.find_target(nb)].source
        assert "def start_up_notes_hidden" in generated, path.name
        quiet = generated.index("with start_up_notes_hidden():\n    import tensorflow")
        assert quiet < generated.index("import keras"), path.name
        assert "print(describe_devices())" in generated, path.name


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
    for the chapters of that time (2,600 since chapter 1's quiet import became a
    context manager, 12 lines more in each); chapter 6, added later, uses most of
    what chapters 1 to 5 teach, and has a budget of its own."""
    lines = {
        name: len(source.splitlines()) for name, source in generated_cells().items()
    }
    engineered = lines.pop("06_training_engineered.ipynb")
    assert sum(lines.values()) <= 2600, lines
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


def test_a_stale_package_file_is_detected_and_regenerated(tmp_path):
    package = tmp_path / "rnnbook"
    shutil.copytree(ROOT / "rnnbook", package)
    parsed = sync_exports.read_book()
    module = package / "data.py"
    module.unlink()
    found = sync_exports.package_problems(parsed, package)
    assert any("data.py" in p for p in found), found
    assert sync_exports.write_package(parsed, package) == [module]
    assert sync_exports.package_problems(parsed, package) == []


def test_a_hand_edit_in_the_package_is_never_overwritten(tmp_path):
    """Only the generator writes rnnbook/: a module that is not what it last wrote
    (its header's sha256 no longer matches) stops the sync, and nothing is written;
    so does a file of someone else's there. A module that no chapter generates any
    more (renamed in a chapter's metadata) is removed, as the generator wrote it."""
    package = tmp_path / "rnnbook"
    shutil.copytree(ROOT / "rnnbook", package)
    parsed = sync_exports.read_book()
    edited = package / "data.py"
    edited.write_text(edited.read_text() + "\nMY_SETTING = 2\n")
    other = package / "model.py"
    other.write_text(other.read_text().replace("class", "class ", 1))  # stale too
    before = {p: p.read_bytes() for p in package.iterdir()}
    with pytest.raises(sync_exports.PackageEdited, match="rnnbook/data.py") as err:
        sync_exports.write_package(parsed, package)
    assert "rnnbook/model.py" in str(err.value)
    assert {p: p.read_bytes() for p in package.iterdir()} == before  # nothing lost

    shutil.rmtree(package)
    shutil.copytree(ROOT / "rnnbook", package)
    mine = package / "my_notes.py"
    mine.write_text("x = 1\n")
    with pytest.raises(sync_exports.PackageEdited, match="my_notes.py"):
        sync_exports.write_package(parsed, package)
    assert mine.read_text() == "x = 1\n"

    mine.unlink()
    renamed = package / "old_name.py"
    renamed.write_text(sync_exports.stamped("x = 1\n"))
    assert sync_exports.write_package(parsed, package) == [renamed]
    assert not renamed.exists()


def test_modules_are_named_by_what_they_hold():
    """No module is named by a chapter's number, so that renumbering a chapter
    renames nothing that code imports."""
    parsed = sync_exports.read_book()
    modules = list(parsed.modules.values())
    assert len(set(modules)) == len(modules), modules
    files = {p.stem for p in (ROOT / "rnnbook").glob("*.py")} - {"__init__"}
    assert files == set(modules)
    for module in modules:
        assert not any(ch.isdigit() for ch in module), module


def test_importing_the_package_prints_nothing_and_passes_on_no_library():
    """Nothing prints at import, and no module re-exports another library's names
    (np, Path, hashlib, ...): each imports what it uses itself, and the book's own
    names from the module that teaches them."""
    parsed = sync_exports.read_book()
    code = "; ".join(f"import rnnbook.{m}" for m in parsed.modules.values())
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    for module in parsed.modules.values():
        tree = ast.parse((ROOT / "rnnbook" / f"{module}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module.startswith("rnnbook"):
                source = ROOT / "rnnbook" / f"{node.module.split('.')[1]}.py"
                defined = {
                    name
                    for st in ast.parse(source.read_text()).body
                    if not isinstance(st, (ast.Import, ast.ImportFrom, ast.With))
                    for name in names.bound_names(st)
                }
                for alias in node.names:
                    assert alias.name in defined, (module, node.module, alias.name)


COMPREHENSIONS = [
    "[x * y for x in z]",
    "squares = {k: v * v for k, v in pairs.items() if k in keep}",
    "total = sum(i for i in range(n))",
    "grid = [[a + b for b in row] for a in column]",
    "def f():\n    return [a for a in b]",
    "class C:\n    v = [q for q in w]",
    "names = {c for c in text if c.isalpha()}\nprint(c)",
]


def python312():
    """A Python 3.12 that runs (pyenv's shim may name one that is not active)."""
    found = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    for python in [*map(str, found), shutil.which("python3.12")]:
        if python and subprocess.run([python, "-c", ""]).returncode == 0:
            return python
    return None


PYTHON312 = python312()


def reads_under(python, sources):
    result = subprocess.run(
        [python, str(ROOT / "scripts" / "names.py")],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        check=True,
    )
    return [set(found) for found in json.loads(result.stdout)]


def test_comprehension_loop_variables_are_not_read_names():
    """PEP 709 (Python 3.12) inlines comprehensions; their loop variables must not
    count as names the module reads, or 3.11 and 3.12 generate different cells."""
    reads = [names.read_names(source) for source in COMPREHENSIONS]
    assert reads[0] == {"y", "z"}
    assert reads[1] == {"pairs", "keep"}
    assert reads[2] == {"sum", "range", "n"}
    assert reads[3] == {"column", "row"}
    assert reads[4] == {"b"} and reads[5] == {"w"}
    assert reads[6] == {"text", "print", "c"}  # a real read of a global c


@pytest.mark.skipif(PYTHON312 is None, reason="no Python 3.12 installed here")
def test_python_3_12_reads_the_same_names_as_this_python():
    """The generator gives byte-identical output under 3.11 and 3.12: every name it
    follows, in every code cell of every chapter, reads the same under both."""
    sources = list(COMPREHENSIONS)
    for path in sync_exports.chapters():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and not cell.source.lstrip().startswith("%"):
                lines = cell.source.splitlines()
                sources.append(
                    "\n".join(x for x in lines if x.lstrip()[:1] not in "%!")
                )
    here = [names.read_names(source) for source in sources]
    assert reads_under(PYTHON312, sources) == here


def test_each_module_imports_what_it_reads_from_the_earlier_ones():
    """A structure drawing finds the imports: chapter 5's sampling module imports
    chapter 3's fused model, for example, and nothing runs code by exec."""
    source = (ROOT / "rnnbook" / "sampling.py").read_text()
    assert "from rnnbook.model import FusedCharLSTM" in source
    for path in (ROOT / "rnnbook").glob("*.py"):
        calls = ast.walk(ast.parse(path.read_text()))
        names = {
            c.func.id
            for c in calls
            if isinstance(c, ast.Call) and hasattr(c.func, "id")
        }
        assert not names & {"exec", "eval"}, path.name
