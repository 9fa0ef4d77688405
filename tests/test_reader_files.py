"""The test suite never touches what a reader made beside the notebooks.

A reader who runs the chapters in `jupyter lab book/` keeps their runs there:
checkpoints in book/checkpoints, the appendix's worker jobs in book/distributed_jobs
and its fit backup in book/fit_backup. The root conftest.py runs every notebook in a
scratch folder of its own, with checkpoints under RNN_BOOK_CHECKPOINTS, and leaves a
sentinel file in each of those folders, which the last test checks.
"""

import os
from pathlib import Path

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


def test_every_notebook_runs_in_a_scratch_folder(pytestconfig):
    """A copy of the notebook alone, outside the repository."""
    conftest = pytestconfig.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    notebook = ROOT / "book" / "05_sampling.ipynb"
    folder = conftest.notebook_workdir(pytestconfig, notebook)
    assert not folder.resolve().is_relative_to(ROOT)
    assert [p.name for p in folder.iterdir()] == [notebook.name]


def test_reader_folders_survive_the_suite(reader_folders_before_and_now):
    """Runs last (root conftest.py): after every notebook has run under nbval, the
    reader's folders hold what they held before, and each sentinel is untouched."""
    before, sentinels, now = reader_folders_before_and_now
    for path, data in sentinels.items():
        assert path.is_file() and path.read_bytes() == data, (
            f"the test run changed or removed {path.relative_to(ROOT)}"
        )
    assert now == before, "the test run changed files in a reader's folder"
