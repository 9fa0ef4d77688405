"""The training chapter's exported code: a resumed run is the same run, whether it was
stopped, killed or left with a damaged checkpoint."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from book_tools import ROOT, exported_namespace

TEXT = "what is noble? what does the word noble still mean to us nowadays? " * 40
RECIPE = dict(
    seq_length=12,
    batch_size=8,
    learning_rate=1e-2,
    final_learning_rate=1e-3,
    clipnorm=1.0,
    all_positions=True,
    units=8,
)


@pytest.fixture(scope="module")
def code():
    return exported_namespace("04_training")


@pytest.fixture
def recipe(code):
    return code["Recipe"](steps=12, **RECIPE)


def fresh(code, recipe, seed):
    """A new session: the book's training model with its own random weights."""
    code["keras"].utils.set_random_seed(seed)
    loader = code["DataLoader"](TEXT, seed=recipe.seed)
    model = code["FusedCharLSTM"](loader.num_chars, units=recipe.units)
    windows = code["held_out_windows"](loader, recipe.seq_length, count=16)
    return loader, model, code["make_evaluator"](model, windows, batch_size=16)


def run(code, recipe, folder, seed=0, **kwargs):
    loader, model, evaluate = fresh(code, recipe, seed)
    curve = code["train"](model, loader, recipe, str(folder), evaluate, **kwargs)
    return curve, model


def assert_same_run(resumed, whole):
    """Equal held-out losses at every evaluation step the two runs share."""
    resumed_at = dict(zip(resumed["step"], resumed["val_loss"]))
    assert set(whole["step"]) <= set(resumed_at)
    for step, loss in zip(whole["step"], whole["val_loss"]):
        np.testing.assert_allclose(resumed_at[step], loss, rtol=1e-5, err_msg=step)


def test_resumed_run_equals_an_uninterrupted_one(code, recipe, tmp_path):
    whole, _ = run(code, recipe, tmp_path / "whole", eval_every=4)
    run(code, recipe, tmp_path / "split", until_step=6, eval_every=4)
    # A new session: other initial weights, other batches, all replaced on resume.
    resumed, _ = run(code, recipe, tmp_path / "split", seed=99, eval_every=4)

    assert whole["step"] == [4, 8, 12]
    # The first session also evaluated at step 6, where it stopped.
    assert resumed["step"] == [4, 6, 8, 12]
    assert_same_run(resumed, whole)
    again, _ = run(code, recipe, tmp_path / "whole", eval_every=4)
    assert again == whole  # a finished run is restored, not trained further


def test_curve_and_generator_state_live_inside_the_checkpoint(code, recipe, tmp_path):
    run(code, recipe, tmp_path, until_step=4, eval_every=4)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"checkpoint", "ckpt-4.index", "ckpt-4.data-00000-of-00001"}
    reader = code["tf"].train.load_checkpoint(str(tmp_path / "ckpt-4"))
    saved = json.loads(reader.get_tensor("progress/.ATTRIBUTES/VARIABLE_VALUE"))
    assert saved["curve"]["step"] == [4] and "bit_generator" in saved["rng_state"]


def test_an_interrupted_run_saves_a_checkpoint(code, recipe, tmp_path):
    loader, model, evaluate = fresh(code, recipe, seed=0)
    calls = []

    def evaluate_then_interrupt():
        calls.append(1)
        if len(calls) == 2:  # as if the reader pressed stop in the second evaluation
            raise KeyboardInterrupt
        return evaluate()

    train = code["train"]
    train(model, loader, recipe, str(tmp_path), evaluate_then_interrupt, eval_every=4)
    assert (tmp_path / "ckpt-8.index").exists()  # saved at the interrupted step
    curve, _ = run(code, recipe, tmp_path, seed=1, eval_every=4)
    assert curve["step"] == [4, 12]  # steps 9-12 were trained after the resume


def truncate(checkpoint):
    data = next(checkpoint.parent.glob(checkpoint.name + ".data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])


def test_a_damaged_checkpoint_falls_back_to_the_one_before(
    code, recipe, tmp_path, capsys
):
    whole, _ = run(code, recipe, tmp_path / "whole", eval_every=4)
    run(code, recipe, tmp_path / "damaged", until_step=8, eval_every=4)
    truncate(tmp_path / "damaged" / "ckpt-8")
    capsys.readouterr()
    resumed, _ = run(code, recipe, tmp_path / "damaged", seed=5, eval_every=4)
    out = capsys.readouterr().out
    assert "ckpt-8 is damaged" in out and "trying the one before it" in out
    assert "Resumed from step 4" in out
    assert resumed["step"] == [4, 8, 12]
    assert_same_run(resumed, whole)


def test_no_usable_checkpoint_starts_over_and_says_so(code, recipe, tmp_path, capsys):
    run(code, recipe, tmp_path, until_step=8, eval_every=4)
    truncate(tmp_path / "ckpt-4")
    truncate(tmp_path / "ckpt-8")
    capsys.readouterr()
    curve, _ = run(code, recipe, tmp_path, eval_every=4)
    out = capsys.readouterr().out
    assert out.count("is damaged") == 2
    assert "No usable checkpoint" in out and "training from the start" in out
    assert curve["step"] == [4, 8, 12]


TRAINER = """
import json, os, signal, sys
import numpy as np
sys.path.insert(0, {scripts!r})
from sync_exports import load_exported

folder, seed, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
book = load_exported("04_training")
book["keras"].utils.set_random_seed(seed)
recipe = book["Recipe"](steps=30, **{recipe!r})
loader = book["DataLoader"]({text!r}, seed=recipe.seed)
model = book["FusedCharLSTM"](loader.num_chars, units=recipe.units)
windows = book["held_out_windows"](loader, recipe.seq_length, count=16)
evaluate = book["make_evaluator"](model, windows, batch_size=16)
get_batch, batches = loader.get_batch, []


def get_batch_or_die(*args, **kwargs):
    batches.append(1)
    if len(batches) == kill_at:  # no clean-up, no final save: as in a crash
        os.kill(os.getpid(), signal.SIGKILL)
    return get_batch(*args, **kwargs)


loader.get_batch = get_batch_or_die
curve = book["train"](model, loader, recipe, folder, evaluate, eval_every=5)
np.savez(os.path.join(folder, "final.npz"), *model.get_weights())
print("CURVE", json.dumps(curve))
"""


def train_in_a_process(script, folder, seed, kill_at=0):
    result = subprocess.run(
        [sys.executable, str(script), str(folder), str(seed), str(kill_at)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    curve = [line for line in result.stdout.splitlines() if line.startswith("CURVE ")]
    return result, json.loads(curve[0][6:]) if curve else None


def test_a_run_killed_with_sigkill_resumes_as_the_same_run(tmp_path):
    script = tmp_path / "trainer.py"
    script.write_text(
        TRAINER.format(scripts=str(ROOT / "scripts"), recipe=RECIPE, text=TEXT)
    )
    result, whole = train_in_a_process(script, tmp_path / "whole", seed=0)
    assert result.returncode == 0, result.stderr[-3000:]

    killed, _ = train_in_a_process(script, tmp_path / "killed", seed=0, kill_at=18)
    assert killed.returncode == -9, killed.stderr[-3000:]  # SIGKILL at step 18
    assert (tmp_path / "killed" / "ckpt-15.index").exists()
    assert not (tmp_path / "killed" / "final.npz").exists()

    result, resumed = train_in_a_process(script, tmp_path / "killed", seed=7)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resumed from step 15" in result.stdout
    assert whole["step"] == resumed["step"] == [5, 10, 15, 20, 25, 30]
    assert_same_run(resumed, whole)
    with np.load(tmp_path / "whole" / "final.npz") as a:
        with np.load(tmp_path / "killed" / "final.npz") as b:
            for name in a.files:
                np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-6)


def test_quick_mode_only_shortens_the_run(code, recipe):
    assert code["QUICK"], "the test suite runs the book with RNN_BOOK_QUICK=1"
    assert recipe.for_this_run() == replace(recipe, steps=12)
    assert code["MAIN_RECIPE"].for_this_run().steps == 30


def test_recipes_have_distinct_checkpoint_folders(code, recipe):
    folder = code["checkpoint_dir_for"]
    assert folder(recipe, "x") == folder(replace(recipe), "x")
    assert folder(recipe, "x") != folder(replace(recipe, steps=13), "x")


def test_trained_weights_load_into_the_stepped_model(code, recipe):
    _, model, _ = fresh(code, recipe, seed=3)
    X = np.random.default_rng(0).integers(0, model.num_chars, size=(4, 10))
    model(X)
    stepped = code["to_char_lstm"](model)
    np.testing.assert_allclose(
        stepped(X, all_positions=True), model(X, all_positions=True), atol=1e-5
    )


def test_loss_is_computed_from_logits(code):
    tf = code["tf"]
    loss = code["next_char_loss"](tf.constant([0]), tf.constant([[0.0, 100.0]]))
    assert float(loss) == pytest.approx(100.0, rel=1e-5)
