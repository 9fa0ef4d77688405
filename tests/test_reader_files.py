"""The test suite never touches what a reader made beside the notebooks.

A reader who runs the chapters in `jupyter lab book/` keeps their runs there:
checkpoints in book/checkpoints, the appendix's worker jobs and fit backup in
book/distributed_jobs. The root conftest.py runs every notebook in a scratch folder of
its own, with checkpoints under RNN_BOOK_CHECKPOINTS, records where each kernel
started, and leaves a sentinel file in each of those folders; the last two tests
check both, after every notebook has run.
"""

import os
from pathlib import Path

import pytest

from rnnbook.training import MAIN_RECIPE, checkpoint_dir_for

from book_tools import ROOT


def test_the_suite_has_a_checkpoint_root_of_its_own():
    root = Path(os.environ["RNN_BOOK_CHECKPOINTS"]).resolve()
    assert not root.is_relative_to(ROOT), root


def test_the_suite_has_a_keras_cache_of_its_own():
    """The corpus and the committed model files, in a cache of the run's own."""
    home = Path(os.environ["KERAS_HOME"]).resolve()
    assert not home.is_relative_to(Path.home() / ".keras"), home
    for name in ("manifest.json", "weights.bin"):
        committed = (ROOT / "book" / "_static" / "model" / name).read_bytes()
        assert (home / "rnn_book" / f"rnn-book-{name}").read_bytes() == committed


def test_the_chapters_put_checkpoints_under_that_root():
    folder = Path(checkpoint_dir_for(MAIN_RECIPE, "main"))
    assert folder.parent == Path(os.environ["RNN_BOOK_CHECKPOINTS"])


def test_every_notebook_ran_in_a_scratch_folder(pytestconfig):
    """Runs after the notebooks (root conftest.py): each kernel that nbval started
    this session started in a folder outside the repository that held a copy of its
    notebook alone, with checkpoints and a Keras cache of the suite's own."""
    conftest = pytestconfig.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    runs = conftest.NOTEBOOK_RUNS
    if not runs:
        pytest.skip("no notebook ran in this session (run `pytest`, or `pytest book`)")
    suite_root = Path(os.environ["RNN_BOOK_CHECKPOINTS"]).resolve()
    for run in runs:
        assert not run["cwd"].resolve().is_relative_to(ROOT), run
        assert run["files"] == [f"{run['cwd'].name}.ipynb"], run
        assert run["checkpoints"].resolve().parent == suite_root, run
        assert not run["keras_home"].resolve().is_relative_to(Path.home()), run


def test_reader_folders_survive_the_suite(reader_folders_before_and_now):
    """Runs last (root conftest.py): after every notebook has run under nbval, the
    reader's folders hold what they held before, and each sentinel is untouched."""
    before, sentinels, now = reader_folders_before_and_now
    for path, data in sentinels.items():
        assert path.is_file() and path.read_bytes() == data, (
            f"the test run changed or removed {path.relative_to(ROOT)}"
        )
    assert now == before, "the test run changed files in a reader's folder"
