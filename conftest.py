"""pytest set-up shared by tests/ and the nbval runs over book/.

The test suite never touches what a reader made, and takes the same path on every
machine:

- every notebook runs in a scratch folder of its own, holding a copy of the notebook
  alone (nbval would start its kernel in book/, where a reader's checkpoints, worker
  jobs and backups live), and keeps its checkpoints in a folder of its own
  (RNN_BOOK_CHECKPOINTS), so that no notebook reuses another's run;
- Keras's cache (KERAS_HOME) is the run's own, holding the verified corpus and the
  committed published model and recipe results, so that chapters 5 and 6 load the
  committed weights (and chapter 6 the committed comparison) on every machine (the
  download and the training fallback have tests of their own);
- sentinel files in book/checkpoints/ and book/distributed_jobs/ are checked after
  the whole suite (tests/test_reader_files.py), then removed;
- nbval runs the chapters that _toc.yml lists and nothing else: a reader's own
  notebook in book/ (an Untitled.ipynb) is neither executed nor touched;
- the run's checkpoint folder is the suite's own, whatever RNN_BOOK_CHECKPOINTS a
  reader's shell exports.
"""

import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import nbval.plugin
import pytest

ROOT = Path(__file__).resolve().parent
# Tests import the scripts (sync_exports, export_model, ...) as modules.
sys.path.insert(0, str(ROOT / "scripts"))

# Chapters that train a model read this knob and run a shorter schedule, so CI stays
# fast. The committed outputs come from full runs (scripts/run_notebooks.py drops it).
os.environ.setdefault("RNN_BOOK_QUICK", "1")
# Keep TensorFlow's C++ logs out of the kernels nbval starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CORPUS_SHA256 = "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"
MODEL = ROOT / "book" / "_static" / "model"
RECIPE_RESULTS = ROOT / "benchmarks" / "results" / "recipes.json"
# Folders that a reader's runs of the chapters fill, beside the notebooks.
READER_FOLDERS = [ROOT / "book" / name for name in ("checkpoints", "distributed_jobs")]
SENTINEL = f"reader-file-{uuid.uuid4().hex[:8]}.txt"
_scratch = None  # the run's scratch folder


def snapshot(folder):
    """{relative path: (size, mtime)} of every file below folder (empty if none)."""
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def readers_corpus():
    """The verified corpus in the reader's (or CI's) Keras cache, or None."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    path = home / "datasets" / "nietzsche.txt"
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == (
        CORPUS_SHA256
    ):
        return path
    return None


def keras_home_for_tests(folder):
    """A Keras cache for the run: the corpus, and the committed model files and
    recipe results where chapters 5 and 6 would download them (cache_subdir
    rnn_book)."""
    corpus = readers_corpus()
    (folder / "datasets").mkdir(parents=True)
    if corpus:
        shutil.copy(corpus, folder / "datasets" / "nietzsche.txt")
    (folder / "rnn_book").mkdir()
    for name in ("manifest.json", "weights.bin"):
        shutil.copy(MODEL / name, folder / "rnn_book" / f"rnn-book-{name}")
    shutil.copy(RECIPE_RESULTS, folder / "rnn_book" / "rnn-book-recipes.json")
    return folder


def leave_sentinels():
    """A file of the suite's own in each reader folder: {path: its bytes}, and the
    folders that this made (removed again at the end, when empty)."""
    sentinels, made = {}, []
    for folder in READER_FOLDERS:
        if not folder.exists():
            folder.mkdir(parents=True)
            made.append(folder)
        path = folder / SENTINEL
        path.write_text(f"a reader's file in {folder.name}\n", encoding="utf-8")
        sentinels[path] = path.read_bytes()
    return sentinels, made


def pytest_configure(config):
    """Scratch folders, the run's Keras cache, and the sentinels."""
    global _scratch
    _scratch = Path(tempfile.mkdtemp(prefix="rnn-book-tests-"))
    # Always the suite's own: a reader's exported RNN_BOOK_CHECKPOINTS names their
    # own checkpoints, which no test may write into.
    os.environ["RNN_BOOK_CHECKPOINTS"] = str(_scratch / "checkpoints")
    os.environ["KERAS_HOME"] = str(keras_home_for_tests(_scratch / "keras"))
    config.rnn_book_checkpoints = os.environ["RNN_BOOK_CHECKPOINTS"]
    config.rnn_book_workdirs = _scratch / "notebooks"
    config.reader_folders_at_start = {f: snapshot(f) for f in READER_FOLDERS}
    config.sentinels, config.sentinel_folders = leave_sentinels()


def pytest_unconfigure(config):
    for path in getattr(config, "sentinels", {}):
        path.unlink(missing_ok=True)
    for folder in getattr(config, "sentinel_folders", []):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if _scratch:
        shutil.rmtree(_scratch, ignore_errors=True)


def toc_notebooks():
    """The chapter notebooks that _toc.yml lists (absolute paths)."""
    import sync_exports  # scripts/, on the path above

    return {path.resolve() for path in sync_exports.chapters()}


def pytest_ignore_collect(collection_path, config):
    """nbval collects the chapters of _toc.yml only, never another notebook that
    happens to lie in book/ (a reader's own Untitled.ipynb)."""
    if collection_path.suffix == ".ipynb":
        return collection_path.resolve() not in toc_notebooks()
    return None


def notebook_workdir(config, notebook):
    """A scratch folder of the notebook's own, holding a copy of it alone."""
    folder = Path(config.rnn_book_workdirs) / notebook.stem
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(notebook, folder / notebook.name)
    return folder


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel (in the setup of its first cell): its
    own checkpoint folder, below the run's, and its own working folder."""
    notebook = Path(str(item.fspath))
    root = Path(item.config.rnn_book_checkpoints)
    if notebook.suffix == ".ipynb":
        os.environ["RNN_BOOK_CHECKPOINTS"] = str(root / notebook.stem)
        os.environ["RNN_BOOK_WORKDIR"] = str(notebook_workdir(item.config, notebook))
    else:
        os.environ["RNN_BOOK_CHECKPOINTS"] = str(root)


_RunningKernel = nbval.plugin.RunningKernel


# Where each notebook's kernel started, what its folder held then, and its checkpoint
# folder: tests/test_reader_files.py checks these after the notebooks have run.
NOTEBOOK_RUNS = []


def kernel_in_scratch(kernel_name, cwd=None, **kwargs):
    """nbval starts a notebook's kernel in the notebook's folder (book/); start it in
    the notebook's scratch folder instead (see pytest_runtest_setup)."""
    workdir = Path(os.environ["RNN_BOOK_WORKDIR"])
    NOTEBOOK_RUNS.append(
        {
            "cwd": workdir,
            "files": sorted(p.name for p in workdir.iterdir()),
            "checkpoints": Path(os.environ["RNN_BOOK_CHECKPOINTS"]),
            "keras_home": Path(os.environ["KERAS_HOME"]),
        }
    )
    return _RunningKernel(kernel_name, cwd=str(workdir), **kwargs)


nbval.plugin.RunningKernel = kernel_in_scratch


def pytest_collectstart(collector):
    """nbval's documented hook: checked cells are compared on what they print and
    return, never on stderr (library warnings)."""
    if getattr(collector, "skip_compare", None) is not None:
        collector.skip_compare = (*collector.skip_compare, "stderr")


LAST = (
    "test_every_notebook_ran_in_a_scratch_folder",
    "test_reader_folders_survive_the_suite",
)


def pytest_collection_modifyitems(config, items):
    """The check that the reader's folders survived runs after every notebook."""
    last = [i for i in items if i.name in LAST]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture
def reader_folders_before_and_now(request):
    """The reader folders as the suite found them (sentinels aside), the sentinels
    and their bytes, and the folders now."""
    config = request.config
    now = {f: snapshot(f) for f in READER_FOLDERS}
    for files in now.values():
        files.pop(SENTINEL, None)
    return config.reader_folders_at_start, config.sentinels, now
