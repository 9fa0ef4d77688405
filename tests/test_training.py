"""The training chapter's exported code: checkpoints resume the same run; interruptions
lose nothing.
"""

from dataclasses import replace

import numpy as np
import pytest

from conftest import exported_namespace

TEXT = "what is noble? what does the word noble still mean to us nowadays? " * 40


@pytest.fixture(scope="module")
def code():
    return exported_namespace("04_training")


@pytest.fixture
def recipe(code):
    return code["Recipe"](
        seq_length=12,
        batch_size=8,
        learning_rate=1e-2,
        final_learning_rate=1e-3,
        clipnorm=1.0,
        all_positions=True,
        steps=12,
        units=8,
    )


def fresh(code, recipe, seed):
    code["keras"].utils.set_random_seed(seed)
    loader = code["DataLoader"](TEXT, seed=recipe.seed)
    model = code["CharLSTM"](loader.num_chars, units=recipe.units)
    windows = code["held_out_windows"](loader, recipe.seq_length, count=16)
    return loader, model, code["make_evaluator"](model, windows, batch_size=16)


def test_resumed_run_equals_an_uninterrupted_one(code, recipe, tmp_path):
    loader, model, evaluate = fresh(code, recipe, seed=0)
    whole = code["train"](
        model, loader, recipe, str(tmp_path / "whole"), evaluate, eval_every=4
    )

    loader, model, evaluate = fresh(code, recipe, seed=0)
    code["train"](
        model,
        loader,
        recipe,
        str(tmp_path / "split"),
        evaluate,
        until_step=6,
        eval_every=4,
    )
    loader, model, evaluate = fresh(
        code, recipe, seed=99
    )  # a new session: other weights, other batches
    resumed = code["train"](
        model, loader, recipe, str(tmp_path / "split"), evaluate, eval_every=4
    )

    assert whole["step"] == [4, 8, 12]
    again = code["train"](
        model, loader, recipe, str(tmp_path / "whole"), evaluate, eval_every=4
    )
    assert again == whole  # a finished run is restored, not trained further
    assert resumed["step"] == [
        4,
        6,
        8,
        12,
    ]  # the first session also evaluated where it stopped
    resumed_at = dict(zip(resumed["step"], resumed["val_loss"]))
    for step, loss in zip(whole["step"], whole["val_loss"]):
        np.testing.assert_allclose(resumed_at[step], loss, rtol=1e-5)


def test_an_interrupted_run_saves_a_checkpoint(code, recipe, tmp_path):
    loader, model, evaluate = fresh(code, recipe, seed=0)
    calls = []

    def evaluate_then_interrupt():
        calls.append(1)
        if len(calls) == 2:
            # as if the reader pressed stop during the second evaluation
            raise KeyboardInterrupt
        return evaluate()

    code["train"](
        model, loader, recipe, str(tmp_path), evaluate_then_interrupt, eval_every=4
    )
    assert (
        tmp_path / "ckpt-8.index"
    ).exists()  # saved at the step it was interrupted in
    loader, model, evaluate = fresh(code, recipe, seed=1)
    curve = code["train"](model, loader, recipe, str(tmp_path), evaluate, eval_every=4)
    assert curve["step"] == [4, 12]  # steps 9-12 were trained after the resume


def test_quick_mode_only_shortens_the_run(code, recipe):
    assert code["QUICK"], "the test suite runs the book with RNN_BOOK_QUICK=1"
    assert recipe.for_this_run() == replace(recipe, steps=12)
    assert code["MAIN_RECIPE"].for_this_run().steps == 30


def test_recipes_have_distinct_checkpoint_folders(code, recipe):
    assert code["checkpoint_dir_for"](recipe, "x") == code["checkpoint_dir_for"](
        replace(recipe), "x"
    )
    assert code["checkpoint_dir_for"](recipe, "x") != code["checkpoint_dir_for"](
        replace(recipe, steps=13), "x"
    )


def test_loss_is_computed_from_logits(code):
    tf = code["tf"]
    loss = code["next_char_loss"](tf.constant([0]), tf.constant([[0.0, 100.0]]))
    assert float(loss) == pytest.approx(100.0, rel=1e-5)
