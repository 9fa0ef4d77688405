"""The stamp that scripts/run_notebooks.py writes into each chapter's metadata
(`rnn_book`) cannot lie: it names the code that produced the stored outputs (a hash
of the code cells), a fingerprint of every code cell's source and outputs as the run
left them, and the versions that the notebook's kernel itself ran on."""

import json
import platform
from importlib import metadata

import nbformat
import pytest

import run_notebooks
from book_tools import ROOT
from notebook_io import cell_hashes, code_hash
from sync_exports import chapters

CHAPTERS = chapters()
VERSIONS = ("python", "tensorflow", "keras", "numpy")


def stored_stamp(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return nb, nb["metadata"].get(run_notebooks.STAMP, {})


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_stored_outputs_come_from_the_stored_code(path):
    nb, stamp = stored_stamp(path)
    assert stamp.get("code_sha256") == code_hash(nb), (
        f"{path.name}: its code is not the code its stored outputs came from (or "
        "its stamp has no code_sha256); re-execute it with python "
        f"scripts/run_notebooks.py {path.relative_to(ROOT).as_posix()}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_stored_outputs_are_those_of_the_stamped_full_run(path):
    """A chapter re-run in Jupyter or Colab (quick, interrupted, or one cell again)
    keeps its old stamp; its outputs then differ from the stamped ones."""
    problem = run_notebooks.stamp_problem(nbformat.read(path, as_version=4))
    assert problem is None, (
        f"{path.name}: {problem}; re-execute it at full length with python "
        f"scripts/run_notebooks.py {path.relative_to(ROOT).as_posix()}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_changing_one_stored_output_is_caught(path):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.outputs)
    out = cell.outputs[-1]
    if "text" in out:
        out["text"] += "."
    else:
        mime = next(iter(out["data"]))
        out["data"][mime] = (
            out["data"][mime] + "."
            if isinstance(out["data"][mime], str)
            else {"changed": True}
        )
    assert "outputs of code cell" in run_notebooks.stamp_problem(nb)
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[-1].execution_count = (code[-1].execution_count or 0) + 1  # run again
    assert "outputs of code cell" in run_notebooks.stamp_problem(nb)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_stamp_names_the_versions_the_kernel_ran(path):
    _, stamp = stored_stamp(path)
    missing = [name for name in VERSIONS if not stamp.get(name)]
    assert not missing, (
        f"{path.name}: its stamp does not name the kernel's {', '.join(missing)}; "
        "re-execute it with python scripts/run_notebooks.py "
        f"{path.relative_to(ROOT).as_posix()}"
    )


def cells_of(sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def test_code_hash_covers_the_code_cells_alone():
    nb = cells_of(["import numpy as np", "x = np.arange(3)\nprint(x.sum())"])
    as_json = json.loads(nbformat.writes(nb))  # sources as lists of lines
    assert code_hash(as_json) == code_hash(nb)
    with_more = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    with_more.cells.insert(1, nbformat.v4.new_markdown_cell("Prose."))
    with_more.cells[0].outputs = [nbformat.v4.new_output("stream", text="out")]
    with_more.cells[0].metadata["tags"] = ["hide-input"]
    with_more.metadata["rnn_book"] = {"run": "full"}
    assert code_hash(with_more) == code_hash(nb)
    # the split between cells and the order of cells count
    assert code_hash(cells_of(["import numpy as np\nx = np.arange(3)"])) != (
        code_hash(cells_of(["import numpy as np", "x = np.arange(3)"]))
    )
    assert code_hash(cells_of(["b = 2", "a = 1"])) != code_hash(
        cells_of(["a = 1", "b = 2"])
    )
    assert code_hash(cells_of(["a = 1", "b = 3"])) != code_hash(
        cells_of(["a = 1", "b = 2"])
    )


def test_code_hash_leaves_out_the_repository_that_set_repository_points_at():
    """In a fork, set_repository.py (and the Pages workflow) rewrites PUBLISHED_URL;
    that alone must not make the stored outputs stale."""
    form = 'PUBLISHED_URL = (\n    "https://raw.githubusercontent.com/{}/"\n)\n'
    upstream = cells_of([form.format("owner/book/main") + "SHA = 'abc'"])
    fork = cells_of([form.format("someone/fork/trunk") + "SHA = 'abc'"])
    other_sha = cells_of([form.format("owner/book/main") + "SHA = 'abd'"])
    assert code_hash(fork) == code_hash(upstream) != code_hash(other_sha)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A two-cell notebook in tmp_path; its kernel sees numpy's metadata as 0.0.1
    (a dist-info on PYTHONPATH), so that the kernel's versions differ from this
    process's, as they do when the kernel runs in another environment."""
    fake = tmp_path / "metadata" / "numpy-0.0.1.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: numpy\nVersion: 0.0.1\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    path = tmp_path / "tiny.ipynb"
    nbformat.write(cells_of(["x = sum(range(4))", "print(x)"]), path)
    return path


def test_a_run_stamps_the_kernels_versions_and_the_code(tiny):
    run_notebooks.execute(tiny, timeout=60)
    nb = nbformat.read(tiny, as_version=4)
    stamp = nb.metadata[run_notebooks.STAMP]
    assert stamp["run"] == "full"
    assert stamp["numpy"] == "0.0.1" != metadata.version("numpy")  # the kernel's
    assert stamp["python"] == platform.python_version()
    for name in ("tensorflow", "keras"):
        assert stamp[name] == metadata.version(name)
    assert stamp["code_sha256"] == code_hash(nb)
    assert stamp["cells"] == cell_hashes(nb)
    assert run_notebooks.stamp_problem(nb) is None
    # the cell that reported the versions is gone; the counts run 1, 2
    assert [cell.source for cell in nb.cells] == ["x = sum(range(4))", "print(x)"]
    assert [cell.execution_count for cell in nb.cells] == [1, 2]
    assert nb.cells[1].outputs[0]["text"] == "6\n"


def test_a_failed_quick_run_is_stamped_quick_with_unknown_versions(tiny, tmp_path):
    """A run stopped by an error never reaches the cell that reports the versions:
    they are recorded as unknown, never as this process's."""
    nb = nbformat.read(tiny, as_version=4)
    nb.cells[1].source = "raise ValueError('stop')"
    nbformat.write(nb, tiny)
    before = tiny.read_bytes()
    output = tmp_path / "out.ipynb"
    error = run_notebooks.execute(tiny, timeout=60, quick=True, output=output)
    assert error is not None and tiny.read_bytes() == before  # only output written
    stamp = nbformat.read(output, as_version=4).metadata[run_notebooks.STAMP]
    assert stamp["run"] == "quick"
    assert all(stamp[name] is None for name in VERSIONS), stamp
    assert stamp["code_sha256"] == code_hash(nb)


def test_cell_hashes_cover_source_outputs_and_counts():
    nb = cells_of(["x = 1", "print(x)"])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[1].execution_count = 2
    base = cell_hashes(nb)
    assert len(base) == 2
    nb.cells[1].outputs[0]["text"] = "2\n"
    assert cell_hashes(nb)[1] != base[1] and cell_hashes(nb)[0] == base[0]
    nb.cells[1].outputs[0]["text"] = "1\n"
    nb.cells[1].execution_count = 3
    assert cell_hashes(nb)[1] != base[1]


@pytest.fixture
def three(tmp_path):
    """A notebook that fails, one whose cell runs past the timeout, one whose
    kernel dies, and one that runs: run_notebooks must carry on past the first
    three and report them all."""
    sources = {
        "error": ["x = 1", "raise ValueError('stop here')"],
        "slow": ["import time", "time.sleep(60)"],
        "dies": ["import os", "os._exit(1)"],
        "good": ["print(6 * 7)"],
    }
    paths = []
    for name, cells in sources.items():
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(cells_of(cells), path)
        paths.append(path)
    return paths


def test_a_run_carries_on_past_every_kind_of_failure(three, tmp_path, capsys):
    before = {path: path.read_bytes() for path in three}
    args = [str(p) for p in three] + ["--timeout", "10"]
    assert run_notebooks.main(args) == 1
    report = capsys.readouterr().out
    assert "3 of 4 failed" in report, report
    for name, error in [
        ("error.ipynb", "ValueError: stop here"),
        ("slow.ipynb", "CellTimeoutError"),
        ("dies.ipynb", "DeadKernelError"),
    ]:
        assert f"{name}: {error}" in report, report
    for path in three[:3]:  # failed in place: left exactly as they were
        assert path.read_bytes() == before[path]
    good = nbformat.read(three[3], as_version=4)
    assert good.cells[0].outputs[0]["text"] == "42\n"
    assert run_notebooks.stamp_problem(good) is None

    output = tmp_path / "out"
    assert run_notebooks.main([str(three[0]), str(three[3]), "--output", str(output)])
    written = nbformat.read(output / "error.ipynb", as_version=4)
    assert written.cells[1].outputs[0]["ename"] == "ValueError"
    assert (output / "good.ipynb").is_file()


def test_a_runs_checkpoints_can_be_kept_without_replacing_any(tmp_path):
    """--keep-checkpoints copies what a run left in checkpoints/ (chapter 4's main
    run, for scripts/export_model.py); a folder already there is never replaced."""
    path = tmp_path / "trains.ipynb"
    source = (
        "from pathlib import Path\n"
        "for name in ('main-abc', 'other-def'):\n"
        "    Path('checkpoints', name).mkdir(parents=True)\n"
        "    Path('checkpoints', name, 'step.txt').write_text('2400')"
    )
    nbformat.write(cells_of([source]), path)
    keep = tmp_path / "kept"
    (keep / "other-def").mkdir(parents=True)
    (keep / "other-def" / "step.txt").write_text("a reader's run")
    assert run_notebooks.main([str(path), "--keep-checkpoints", str(keep)]) == 0
    assert (keep / "main-abc" / "step.txt").read_text() == "2400"
    assert (keep / "other-def" / "step.txt").read_text() == "a reader's run"


def test_a_run_names_the_published_files_that_keras_cache_lacks(tmp_path):
    """Offline, chapters 5 to 7 would silently fall back (train, or time a short live
    comparison) when Keras's cache lacks a committed published file: the run says so."""
    names = [committed for committed, _ in run_notebooks.published_not_cached(tmp_path)]
    assert names == list(run_notebooks.PUBLISHED.values())
    for cached, committed in run_notebooks.PUBLISHED.items():
        (tmp_path / "rnn_book").mkdir(exist_ok=True)
        (tmp_path / "rnn_book" / cached).write_bytes((ROOT / committed).read_bytes())
    assert run_notebooks.published_not_cached(tmp_path) == []
