"""Chapters 5 and 6 reuse a finished run of the main recipe, and only a verified one.

A run that chapter 4 finished in the same checkpoints/ folder is restored instead of
trained again; a missing, unfinished, damaged or inconsistent one is not, and then the
chapter trains exactly as it would in an empty folder.
"""

from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import rnnbook.training
from rnnbook.data import DataLoader, fetch_corpus, read_text
from rnnbook.model import FusedCharLSTM
from rnnbook.sampling import main_model, reuse_finished_run
from rnnbook.training import (
    MAIN_RECIPE,
    QUICK,
    Recipe,
    checkpoint_dir_for,
    held_out_windows,
    make_evaluator,
    train,
)

from book_tools import ROOT

TEXT = "supposing that truth is a woman--what then? is there not ground " * 40


@pytest.fixture
def run(tmp_path, monkeypatch):
    """A tiny recipe, a loader, a model factory and an evaluator factory, with the
    checkpoint root in tmp_path."""
    # checkpoint_dir_for, in rnnbook.training, reads CHECKPOINT_ROOT when called
    monkeypatch.setattr(rnnbook.training, "CHECKPOINT_ROOT", tmp_path)
    recipe = Recipe(seq_length=8, batch_size=4, steps=6, units=8, seed=0)
    loader = DataLoader(TEXT, seed=0)
    windows = held_out_windows(loader, recipe.seq_length, count=16)

    def new_model():
        keras.utils.set_random_seed(0)
        return FusedCharLSTM(loader.num_chars, units=recipe.units)

    def evaluator(model):
        return make_evaluator(model, windows)

    return recipe, loader, new_model, evaluator


def train_as_chapter_4(run, until_step=None):
    recipe, loader, new_model, evaluator = run
    model = new_model()
    folder = checkpoint_dir_for(recipe, "ch4-main")
    train(model, loader, recipe, folder, evaluator(model), until_step, eval_every=3)
    return model, folder


def test_a_finished_run_is_reused(run, capsys):
    recipe, _, new_model, evaluator = run
    trained, folder = train_as_chapter_4(run)
    capsys.readouterr()
    model = new_model()
    curve = reuse_finished_run(model, recipe, evaluator(model))
    assert curve is not None and curve["step"][-1] == recipe.steps
    assert f"Reused {folder}/ckpt-6" in capsys.readouterr().out
    for mine, theirs in zip(model.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def untouched(run, capsys, expected):
    """reuse_finished_run declines, says why, and leaves fresh weights as they were."""
    recipe, _, new_model, evaluator = run
    model, fresh = new_model(), new_model()
    fresh(np.zeros([1, 1], dtype=np.int32))
    assert reuse_finished_run(model, recipe, evaluator(model)) is None
    out = capsys.readouterr().out
    assert expected in out and "No finished run of this recipe" in out, out
    for mine, initial in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(mine, initial)


def test_no_run_no_reuse(run, capsys):
    untouched(run, capsys, "No finished run")


def test_an_unfinished_run_is_not_reused(run, capsys):
    train_as_chapter_4(run, until_step=3)
    capsys.readouterr()
    untouched(run, capsys, "stopped before step 6")


def test_a_damaged_run_is_not_reused(run, capsys):
    _, folder = train_as_chapter_4(run)
    data = next(Path(folder).glob("ckpt-6.data-*"))
    data.write_bytes(data.read_bytes()[:-200] + bytes(200))
    capsys.readouterr()
    untouched(run, capsys, "is damaged")


def test_a_run_that_no_longer_gives_its_loss_is_not_reused(run, capsys):
    recipe, _, new_model, _ = run
    train_as_chapter_4(run)
    capsys.readouterr()
    model, fresh = new_model(), new_model()
    fresh(np.zeros([1, 1], dtype=np.int32))
    assert reuse_finished_run(model, recipe, lambda: 99.0) is None
    assert "gives 99.000, not the" in capsys.readouterr().out
    for mine, initial in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(mine, initial)


def first_cells(name, upto):
    """The notebook's cells up to and including the first one that contains upto."""
    nb = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
    end = next(i for i, c in enumerate(nb.cells) if upto in c.source)
    nb.cells = [c for c in nb.cells[: end + 1] if c.cell_type == "code"]
    return nb


@pytest.fixture(scope="module")
def after_chapter_4(tmp_path_factory):
    """A folder where chapter 4's main recipe, at the test suite's length, has run."""
    folder = tmp_path_factory.mktemp("after-chapter-4")
    assert QUICK, "the test suite runs the short recipe (RNN_BOOK_QUICK=1)"
    recipe = MAIN_RECIPE.for_this_run()
    keras.utils.set_random_seed(recipe.seed)
    loader = DataLoader(read_text(fetch_corpus()), seed=recipe.seed)
    model = FusedCharLSTM(loader.num_chars, units=recipe.units)
    windows = held_out_windows(loader, recipe.seq_length, count=512)
    path = folder / "checkpoints" / f"ch4-main-{recipe.fingerprint()}"
    train(
        model,
        loader,
        recipe,
        str(path),
        make_evaluator(model, windows),
        None,
        10,
    )
    return folder


@pytest.mark.parametrize(
    "name", ["05_sampling", "06_training_engineered", "07_inside_the_lstm"]
)
def test_after_chapter_4_the_chapter_trains_nothing(name, after_chapter_4, monkeypatch):
    """The chapter's own first cells, in a fresh kernel, in the folder where chapter 4
    ran (the kernel inherits this environment: the short recipe, checkpoints/)."""
    monkeypatch.delenv("RNN_BOOK_CHECKPOINTS")
    nb = first_cells(name, "= main_model(")
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(after_chapter_4)}},
    ).execute()
    printed = "".join(
        out.get("text", "") for cell in nb.cells for out in cell.get("outputs", [])
    )
    assert "Reused checkpoints/ch4-main-" in printed, printed
    assert "steps 1 to" not in printed and "No finished run" not in printed, printed


def test_main_model_decides_in_order(run, tmp_path, capsys):
    """main_model, the one place that decides where the main model comes from: no
    finished run and no reachable server -> it trains the recipe itself; then the
    finished run it left is reused."""
    recipe, loader, _, evaluator = run
    windows = held_out_windows(loader, recipe.seq_length, count=16)
    dead = "http://127.0.0.1:9/"  # port 9 (discard): nothing listens there
    hashes = {"manifest.json": "0" * 64, "weights.bin": "0" * 64}
    keras.utils.set_random_seed(0)
    model, curve = main_model(
        loader, recipe, windows, "published", dead, hashes,
        eval_every=3, prefix="ch5-main", cache_dir=tmp_path / "cache",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "could not be had" in out and curve["step"][-1] == recipe.steps
    again, reused = main_model(
        loader, recipe, windows, "published", dead, hashes, prefix="ch5-main"
    )
    assert "Reused" in capsys.readouterr().out and reused == curve
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_main_model_refuses_an_unknown_choice(run):
    recipe, loader, _, _ = run
    with pytest.raises(ValueError, match='choose "published" or "train"'):
        main_model(loader, recipe, None, "download")
