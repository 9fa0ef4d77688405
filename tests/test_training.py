"""The training chapter's exported code: a resumed run is the same run, whether it was
stopped, killed, interrupted inside a step or left with a damaged checkpoint; the
metrics, the batches of carried state, and the tables on a GPU's results."""

import json
import subprocess
import sys
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnbook.engineering
import rnnbook.training
from rnnbook.data import DataLoader
from rnnbook.engineering import (
    PATHS,
    SHAPES,
    consecutive_batches,
    fastest_path,
    has_native_bf16,
    speed_up_table,
    step_gflop,
    step_table,
    streamed_loss,
    time_paths,
)
from rnnbook.model import CharLSTM, FusedCharLSTM
from rnnbook.training import (
    MAIN_RECIPE,
    QUICK,
    Recipe,
    checkpoint_dir_for,
    held_out_windows,
    make_evaluator,
    make_train_step,
    next_char_loss,
    sample_line,
    to_char_lstm,
    train,
)

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


@pytest.fixture
def recipe():
    return Recipe(steps=12, **RECIPE)


def fresh(recipe, seed):
    """A new session: the book's training model with its own random weights."""
    keras.utils.set_random_seed(seed)
    loader = DataLoader(TEXT, seed=recipe.seed)
    model = FusedCharLSTM(loader.num_chars, units=recipe.units)
    windows = held_out_windows(loader, recipe.seq_length, count=16)
    return loader, model, make_evaluator(model, windows, batch_size=16)


def run(recipe, folder, seed=0, **kwargs):
    loader, model, evaluate = fresh(recipe, seed)
    curve = train(model, loader, recipe, str(folder), evaluate, **kwargs)
    return curve, model


def assert_same_run(resumed, whole):
    """Equal held-out losses at every evaluation step the two runs share."""
    resumed_at = dict(zip(resumed["step"], resumed["val_loss"]))
    assert set(whole["step"]) <= set(resumed_at)
    for step, loss in zip(whole["step"], whole["val_loss"]):
        np.testing.assert_allclose(resumed_at[step], loss, rtol=1e-5, err_msg=step)


def test_resumed_run_equals_an_uninterrupted_one(recipe, tmp_path):
    whole, _ = run(recipe, tmp_path / "whole", eval_every=4)
    run(recipe, tmp_path / "split", until_step=6, eval_every=4)
    # A new session: other initial weights, other batches, all replaced on resume.
    resumed, _ = run(recipe, tmp_path / "split", seed=99, eval_every=4)

    assert whole["step"] == [4, 8, 12]
    # The first session also evaluated at step 6, where it stopped.
    assert resumed["step"] == [4, 6, 8, 12]
    assert_same_run(resumed, whole)
    again, _ = run(recipe, tmp_path / "whole", eval_every=4)
    assert again == whole  # a finished run is restored, not trained further


def test_curve_and_generator_state_live_inside_the_checkpoint(recipe, tmp_path):
    run(recipe, tmp_path, until_step=4, eval_every=4)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"checkpoint", "ckpt-4.index", "ckpt-4.data-00000-of-00001"}
    reader = tf.train.load_checkpoint(str(tmp_path / "ckpt-4"))
    saved = json.loads(reader.get_tensor("progress/.ATTRIBUTES/VARIABLE_VALUE"))
    assert saved["curve"]["step"] == [4] and "bit_generator" in saved["rng_state"]


def test_an_interrupted_run_saves_a_checkpoint(recipe, tmp_path):
    loader, model, evaluate = fresh(recipe, seed=0)
    calls = []

    def evaluate_then_interrupt():
        calls.append(1)
        if len(calls) == 2:  # as if the reader pressed stop in the second evaluation
            raise KeyboardInterrupt
        return evaluate()

    train(model, loader, recipe, str(tmp_path), evaluate_then_interrupt, eval_every=4)
    assert (tmp_path / "ckpt-8.index").exists()  # saved at the interrupted step
    curve, _ = run(recipe, tmp_path, seed=1, eval_every=4)
    assert curve["step"] == [4, 12]  # steps 9-12 were trained after the resume


def truncate(checkpoint):
    data = next(checkpoint.parent.glob(checkpoint.name + ".data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])


def test_a_damaged_checkpoint_falls_back_to_the_one_before(recipe, tmp_path, capsys):
    whole, _ = run(recipe, tmp_path / "whole", eval_every=4)
    run(recipe, tmp_path / "damaged", until_step=8, eval_every=4)
    truncate(tmp_path / "damaged" / "ckpt-8")
    capsys.readouterr()
    resumed, _ = run(recipe, tmp_path / "damaged", seed=5, eval_every=4)
    out = capsys.readouterr().out
    assert "ckpt-8 is damaged; trying the one before it" in out
    assert "Resumed from step 4" in out
    assert resumed["step"] == [4, 8, 12]
    assert_same_run(resumed, whole)


def test_no_usable_checkpoint_starts_over_and_says_so(recipe, tmp_path, capsys):
    run(recipe, tmp_path, until_step=8, eval_every=4)
    truncate(tmp_path / "ckpt-4")
    truncate(tmp_path / "ckpt-8")
    capsys.readouterr()
    curve, _ = run(recipe, tmp_path, eval_every=4)
    out = capsys.readouterr().out
    assert out.count("is damaged") == 2
    assert "No usable checkpoint" in out and "training from the start" in out
    assert curve["step"] == [4, 8, 12]


TRAINER = """
import json, os, signal, sys
import keras
import numpy as np
from rnnbook.data import DataLoader
from rnnbook.model import FusedCharLSTM
from rnnbook.training import Recipe, held_out_windows, make_evaluator, train

folder, seed, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
keras.utils.set_random_seed(seed)
recipe = Recipe(steps=30, **{recipe!r})
loader = DataLoader({text!r}, seed=recipe.seed)
model = FusedCharLSTM(loader.num_chars, units=recipe.units)
windows = held_out_windows(loader, recipe.seq_length, count=16)
evaluate = make_evaluator(model, windows, batch_size=16)
get_batch, batches = loader.get_batch, []


def get_batch_or_die(*args, **kwargs):
    batches.append(1)
    if len(batches) == kill_at:  # no clean-up, no final save: as in a crash
        os.kill(os.getpid(), signal.SIGKILL)
    return get_batch(*args, **kwargs)


loader.get_batch = get_batch_or_die
curve = train(model, loader, recipe, folder, evaluate, eval_every=5)
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
    script.write_text(TRAINER.format(recipe=RECIPE, text=TEXT))
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


@pytest.mark.parametrize("after_update", [False, True], ids=["before", "after"])
def test_an_interrupt_inside_a_step_resumes_the_same_run(
    recipe, tmp_path, monkeypatch, after_update
):
    """A Ctrl-C can land while a step runs, before or after its update: the checkpoint
    must pair the optimizer's step count with the random state of that step."""
    whole, whole_model = run(recipe, tmp_path / "whole", eval_every=4)

    def interrupted_at_step_7(*args, **kwargs):
        step_fn, calls = make_train_step(*args, **kwargs), []

        def step(X, y):
            calls.append(1)
            if len(calls) == 7:
                if after_update:
                    step_fn(X, y)  # the update lands, then the interrupt
                raise KeyboardInterrupt
            return step_fn(X, y)

        return step

    # train, in rnnbook.training, looks make_train_step up when it is called
    monkeypatch.setattr(rnnbook.training, "make_train_step", interrupted_at_step_7)
    run(recipe, tmp_path / "split", eval_every=4)
    monkeypatch.setattr(rnnbook.training, "make_train_step", make_train_step)
    saved = 7 if after_update else 6
    assert (tmp_path / "split" / f"ckpt-{saved}.index").exists()
    resumed, resumed_model = run(recipe, tmp_path / "split", seed=3, eval_every=4)
    assert resumed["step"] == whole["step"] == [4, 8, 12]
    assert_same_run(resumed, whole)
    for a, b in zip(whole_model.get_weights(), resumed_model.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_train_prints_a_sample_line_at_each_evaluation(recipe, tmp_path, capsys):
    loader, model, evaluate = fresh(recipe, seed=0)
    train(
        model, loader, recipe, str(tmp_path), evaluate, eval_every=5, sample=lambda: "S"
    )
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [int(line[0]) for line in lines if line[-1:] == ["S"]] == [5, 10, 12]


def test_the_evaluator_scores_the_last_or_every_position(recipe):
    loader, model, _ = fresh(recipe, seed=0)
    windows = held_out_windows(loader, recipe.seq_length, count=16)
    X, loss = windows[:, :-1], next_char_loss
    last = float(loss(windows[:, -1], model(X)))
    every = float(loss(windows[:, 1:], model(X, all_positions=True)))
    evaluator = make_evaluator
    assert evaluator(model, windows, batch_size=5)() == pytest.approx(last, rel=1e-5)
    every_position = evaluator(model, windows, batch_size=5, all_positions=True)()
    assert every_position == pytest.approx(every, rel=1e-5)


def test_the_streamed_loss_carries_the_state_across_chunks():
    loss = next_char_loss
    keras.utils.set_random_seed(0)
    model = CharLSTM(7, units=8)
    codes = np.random.default_rng(0).integers(0, 7, size=251).astype(np.int32)
    one_call = float(loss(codes[None, 1:], model(codes[None, :-1], all_positions=True)))
    streamed = streamed_loss(model, codes, chunk=100)
    assert streamed == pytest.approx(one_call, rel=1e-5)
    chunks = [(codes[i : i + 100], codes[i + 1 : i + 101]) for i in range(0, 250, 100)]
    zero_state = sum(  # the same chunks, each from a zero state
        float(loss(y[None], model(x[: len(y)][None], all_positions=True))) * len(y)
        for x, y in chunks
    )
    assert zero_state / 250 != pytest.approx(streamed, rel=1e-4)


def test_consecutive_batches_continue_every_stream_then_start_over():
    batches = consecutive_batches(np.arange(103), batch_size=2, seq_length=10)
    X, y, first = next(batches)
    assert first and X.shape == (2, 10)
    np.testing.assert_array_equal(X[1], np.arange(51, 61))  # 51 characters a stream
    np.testing.assert_array_equal(y, X + 1)
    X, _, first = next(batches)
    assert not first
    np.testing.assert_array_equal(X[0], np.arange(10, 20))
    firsts = [next(batches)[2] for _ in range(4)]
    assert firsts == [False, False, False, True]  # 5 windows of 10 fit in 51


def test_sample_line_is_reproducible_and_uses_the_vocabulary():
    loader = DataLoader(TEXT)
    keras.utils.set_random_seed(0)
    model = CharLSTM(loader.num_chars, units=8)
    line = sample_line(model, loader, prompt="what ", length=30, seed=1)
    assert line == sample_line(model, loader, prompt="what ", length=30, seed=1)
    assert line.startswith("what ") and len(line) == 35
    assert set(line) <= set(loader.chars) | {"↵"}


def test_the_flop_count_skips_the_one_hot_inputs_gradient():
    # 1 window of 1 character, 1 unit, 1 input: U and W are 1 x 4, V is 1 x 1.
    gflop, share = step_gflop(1, 1, True, units=1, inputs=1)
    one_hot, recurrent, output = 2 * 4, 2 * 4, 2 * 1
    total = 2 * one_hot + 3 * recurrent + 3 * output
    assert gflop * 1e9 == pytest.approx(total)
    assert share == pytest.approx(2 * one_hot / total)


def gpu_results():
    """Step times as a GPU run gives them: the fused layer with XLA not timed (nan)."""
    nan = float("nan")
    return {
        shape: {
            name: (nan, nan, nan)
            if name == "fused, XLA"
            else (1.0 + i, 10.0 * (i + 1), 5.0)
            for i, name in enumerate(PATHS)
        }
        for shape in SHAPES
    }


def test_the_tables_read_skipped_for_the_path_a_gpu_skips():
    times = gpu_results()
    table = step_table(times)
    assert "nan" not in table.lower() and table.count("skipped") == 4
    pairs = [
        ("loop, eager (the source)", "loop, tf.function"),
        ("fused, tf.function", "fused, XLA"),
    ]
    speed_ups = speed_up_table(times, pairs)
    assert "nan" not in speed_ups.lower()
    assert speed_ups.count("skipped") == 2 and speed_ups.count("0.50x") == 2
    name, ms = fastest_path(times["main 64 x 64"])
    assert name == "loop, eager (the source)" and ms == 10.0


def test_time_paths_skips_the_fused_layer_with_xla_on_a_gpu(monkeypatch):
    monkeypatch.setattr(rnnbook.engineering, "ON_GPU", True)  # read by time_paths
    loader = DataLoader(TEXT)
    paths = {name: PATHS[name] for name in ("fused, tf.function", "fused, XLA")}
    times = time_paths(loader, paths, (4, 8, True), count=3, rounds=1)
    assert np.isnan(times["fused, XLA"][1])
    assert times["fused, tf.function"][1] > 0


@pytest.mark.parametrize(
    "capability, expected", [((7, 5), False), ((8, 0), True), ((9, 0), True)]
)
def test_bf16_is_decided_by_the_gpu_that_computes(monkeypatch, capability, expected):
    config = tf.config
    monkeypatch.setattr(
        config, "list_physical_devices", lambda kind=None: ["GPU:0"] * (kind == "GPU")
    )
    monkeypatch.setattr(
        config.experimental,
        "get_device_details",
        lambda device: {"compute_capability": capability},
    )
    # never asked: has_native_bf16 (rnnbook.engineering) reads it only without a GPU
    monkeypatch.setattr(rnnbook.engineering, "cpu_has_bf16", lambda: not expected)
    assert has_native_bf16() is expected


def test_quick_mode_only_shortens_the_run(recipe):
    assert QUICK, "the test suite runs the book with RNN_BOOK_QUICK=1"
    assert recipe.for_this_run() == replace(recipe, steps=12)
    assert MAIN_RECIPE.for_this_run().steps == 30


def test_recipes_have_distinct_checkpoint_folders(recipe):
    folder = checkpoint_dir_for
    assert folder(recipe, "x") == folder(replace(recipe), "x")
    assert folder(recipe, "x") != folder(replace(recipe, steps=13), "x")


def test_trained_weights_load_into_the_stepped_model(recipe):
    _, model, _ = fresh(recipe, seed=3)
    X = np.random.default_rng(0).integers(0, model.num_chars, size=(4, 10))
    model(X)
    stepped = to_char_lstm(model)
    np.testing.assert_allclose(
        stepped(X, all_positions=True), model(X, all_positions=True), atol=1e-5
    )


def test_loss_is_computed_from_logits():
    loss = next_char_loss(tf.constant([0]), tf.constant([[0.0, 100.0]]))
    assert float(loss) == pytest.approx(100.0, rel=1e-5)


def test_checkpoints_on_drive_outside_colab_says_what_to_do():
    """CHECKPOINTS_ON_DRIVE = True outside Colab names the setting and the fix, rather
    than failing on the missing google.colab package."""
    with pytest.raises(RuntimeError, match="Colab only.*set it to False"):
        rnnbook.training.checkpoints_on_drive()
