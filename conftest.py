"""pytest set-up shared by tests/ and the nbval runs over book/.

The test suite never touches what a reader made: the notebooks it runs keep their
checkpoints in a temporary folder (RNN_BOOK_CHECKPOINTS), never in book/checkpoints,
and each notebook starts with an empty folder of its own.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Chapters that train a model read this knob and run a shorter schedule, so CI stays
# fast. The committed outputs come from full runs (scripts/run_notebooks.py drops it).
os.environ.setdefault("RNN_BOOK_QUICK", "1")
# Keep TensorFlow's C++ logs out of the kernels nbval starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

READER_CHECKPOINTS = Path(__file__).resolve().parent / "book" / "checkpoints"
_scratch = None  # the run's checkpoint root, when this file made it
_root = None  # the run's checkpoint root: one folder per notebook below it


def snapshot(folder):
    """{relative path: (size, mtime)} of every file below folder (empty if none)."""
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pytest_configure(config):
    """Point the chapters' checkpoint root at a folder of this test run's own."""
    global _scratch, _root
    if "RNN_BOOK_CHECKPOINTS" not in os.environ:
        _scratch = tempfile.mkdtemp(prefix="rnn-book-checkpoints-")
        os.environ["RNN_BOOK_CHECKPOINTS"] = _scratch
    _root = os.environ["RNN_BOOK_CHECKPOINTS"]
    config.reader_checkpoints_at_start = snapshot(READER_CHECKPOINTS)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Each notebook starts without checkpoints: before nbval starts a notebook's
    kernel (in the setup of its first cell), point RNN_BOOK_CHECKPOINTS at a folder
    of that notebook's own, below the run's root. Chapters 5 and 6 would otherwise
    reuse the run that chapter 4 had just finished."""
    notebook = Path(str(item.fspath))
    own = Path(_root) / notebook.stem if notebook.suffix == ".ipynb" else Path(_root)
    os.environ["RNN_BOOK_CHECKPOINTS"] = str(own)


def pytest_unconfigure(config):
    if _scratch:
        shutil.rmtree(_scratch, ignore_errors=True)


def pytest_collectstart(collector):
    """nbval's documented hook: checked cells are compared on what they print and
    return, never on stderr (library warnings)."""
    if getattr(collector, "skip_compare", None) is not None:
        collector.skip_compare = (*collector.skip_compare, "stderr")


def pytest_collection_modifyitems(config, items):
    """The check that the reader's checkpoints survived runs after every notebook."""
    last = [i for i in items if i.name == "test_reader_checkpoints_survive_the_suite"]
    items[:] = [i for i in items if i not in last] + last


@pytest.fixture
def reader_checkpoints_before_and_now(request):
    """book/checkpoints as the suite found it, and as it is now (see snapshot)."""
    return request.config.reader_checkpoints_at_start, snapshot(READER_CHECKPOINTS)
