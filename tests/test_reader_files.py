"""The test suite never touches what a reader made in book/checkpoints.

A reader who trains chapter 4 in `jupyter lab book/` keeps the run there. The suite's
notebooks keep theirs under RNN_BOOK_CHECKPOINTS, a temporary folder that the root
conftest.py makes for each run.
"""

import importlib.util
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from book_tools import ROOT, exported_namespace

READER = ROOT / "book" / "checkpoints"


def test_the_suite_has_a_checkpoint_root_of_its_own():
    root = Path(os.environ["RNN_BOOK_CHECKPOINTS"]).resolve()
    assert not root.is_relative_to(ROOT / "book"), root


def test_the_chapters_put_checkpoints_under_that_root():
    code = exported_namespace("04_training")
    folder = Path(code["checkpoint_dir_for"](code["MAIN_RECIPE"], "main"))
    assert folder.parent == Path(os.environ["RNN_BOOK_CHECKPOINTS"])


def test_each_notebook_starts_in_a_checkpoint_folder_of_its_own(monkeypatch, tmp_path):
    """The root conftest.py gives every notebook a folder of its own below the run's
    root, so chapters 5 and 6 train instead of reusing chapter 4's run."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    monkeypatch.setattr(conftest, "_root", str(tmp_path))
    monkeypatch.setenv("RNN_BOOK_CHECKPOINTS", str(tmp_path))  # restored afterwards
    folders = []
    for name in ("04_training.ipynb", "05_sampling.ipynb", "06_inside_the_lstm.ipynb"):
        conftest.pytest_runtest_setup(SimpleNamespace(fspath=ROOT / "book" / name))
        folders.append(Path(os.environ["RNN_BOOK_CHECKPOINTS"]))
    assert len(set(folders)) == 3
    assert all(folder.parent == tmp_path for folder in folders)
    conftest.pytest_runtest_setup(SimpleNamespace(fspath=Path(__file__)))
    assert Path(os.environ["RNN_BOOK_CHECKPOINTS"]) == tmp_path


@pytest.fixture
def readers_checkpoint():
    """A file where a reader's training run would be; removed again afterwards."""
    made_folder = not READER.exists()
    READER.mkdir(parents=True, exist_ok=True)
    path = READER / f"readers-run-{uuid.uuid4().hex[:8]}.index"
    path.write_bytes(b"a reader's checkpoint")
    yield path
    path.unlink(missing_ok=True)
    if made_folder and not any(READER.iterdir()):
        READER.rmdir()


def test_a_test_run_leaves_a_readers_checkpoint_alone(readers_checkpoint):
    """`pytest tests/test_landing_page.py`, as a reader might run it: the reader's
    file is still there, unchanged, afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "RNN_BOOK_CHECKPOINTS"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_landing_page.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert readers_checkpoint.read_bytes() == b"a reader's checkpoint"


def test_reader_checkpoints_survive_the_suite(reader_checkpoints_before_and_now):
    """Runs last (root conftest.py): after every notebook has run under nbval,
    book/checkpoints holds exactly what it held before the suite started."""
    before, now = reader_checkpoints_before_and_now
    assert now == before, (
        "the test run changed book/checkpoints; the chapters must write under "
        "RNN_BOOK_CHECKPOINTS"
    )
