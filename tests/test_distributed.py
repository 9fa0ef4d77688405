"""The tf.distribute appendix's helpers: ports, TF_CONFIG, shards, the input pipeline,
the distributed step, the worker script, stopping workers when one fails, and model.fit
with BackupAndRestore.
"""

import ast
import inspect
import json
import os
import socket
import textwrap
import types
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnbook.distributed
from rnnbook.data import DataLoader
from rnnbook.distributed import (
    WORKER_DEFINITIONS,
    StopAfter,
    WorkerFailed,
    distributed_windows,
    fit_model,
    free_ports,
    make_distributed_train_step,
    model_from,
    prepare_job,
    replicated_model,
    run_job,
    run_worker,
    shard_rows,
    source_of,
    tf_config,
    train_on_one_device,
    why_stopped,
    window_dataset,
    window_starts,
    write_worker_script,
)
from rnnbook.model import FusedCharLSTM
from rnnbook.training import MAIN_RECIPE, Recipe, make_optimizer, make_train_step

TEXT = "the quick brown fox jumps over the lazy dog. " * 40


@pytest.fixture(scope="module")
def loader():
    return DataLoader(TEXT, seed=3)


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # raises if the port is taken


def test_tf_config_is_what_a_host_is_given():
    hosts = ["a.example:2222", "b.example:2222", "c.example:2222"]
    config = json.loads(tf_config(hosts, 2))
    assert config == {
        "cluster": {"worker": hosts},
        "task": {"type": "worker", "index": 2},
    }
    with pytest.raises(ValueError, match="index 3 is not a worker of 3"):
        tf_config(hosts, 3)
    with pytest.raises(ValueError, match="share an address"):
        tf_config(["a:1", "a:1"], 0)


@pytest.mark.parametrize(
    "global_batch, replicas, pipelines",
    [(64, 2, 1), (64, 2, 2), (64, 8, 2), (12, 6, 3)],
)
def test_shards_cover_every_row_once(global_batch, replicas, pipelines):
    rows = [
        row
        for pipeline in range(pipelines)
        for start, stop in shard_rows(global_batch, replicas, pipeline, pipelines)
        for row in range(start, stop)
    ]
    assert rows == list(range(global_batch))  # in order, no gaps, no overlaps
    sizes = {
        stop - start
        for p in range(pipelines)
        for start, stop in shard_rows(global_batch, replicas, p, pipelines)
    }
    assert sizes == {global_batch // replicas}


def test_uneven_shards_are_refused_with_a_fix():
    with pytest.raises(ValueError, match="use a multiple of 8, such as 64"):
        shard_rows(60, 8)
    with pytest.raises(ValueError, match="use a multiple of 4, such as 4"):
        shard_rows(2, 4)
    with pytest.raises(ValueError, match="cannot be shared evenly"):
        shard_rows(64, 4, 0, 3)
    with pytest.raises(ValueError, match="pipeline_id must be in"):
        shard_rows(64, 4, 2, 2)


def test_pipeline_yields_get_batch_windows():
    twins = [DataLoader(TEXT, seed=11) for _ in range(2)]
    expected = [twins[0].get_batch(16, 5, all_targets=True) for _ in range(3)]
    starts = window_starts(twins[1], 16, 5, steps=3)
    dataset = window_dataset(twins[1].splits["train"], starts, 16)
    for (X, y), (X_tf, y_tf) in zip(expected, dataset, strict=True):
        np.testing.assert_array_equal(X_tf, X)
        np.testing.assert_array_equal(y_tf, y)
    assert twins[0].rng.bit_generator.state == twins[1].rng.bit_generator.state


def test_window_starts_refuses_impossible_sizes(loader):
    size = len(loader.splits["train"])
    with pytest.raises(ValueError, match=f"use at most {size - 1:,}"):
        window_starts(loader, size, 4, 1)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="must be a positive integer"):
            window_starts(loader, 8, 4, bad)
    with pytest.raises(ValueError, match="split must be"):
        window_starts(loader, 8, 4, 1, split="test")


def test_distributed_step_with_clipping_equals_one_device(loader):
    """One replica, but the whole path: shards, loss scaling, the clip on the sum."""
    recipe = replace(MAIN_RECIPE, units=8, seq_length=12, batch_size=6)
    recipe = replace(recipe, clipnorm=0.05)  # small enough to clip every step here
    keras.utils.set_random_seed(0)
    model = FusedCharLSTM(loader.num_chars, units=8)
    model(np.zeros([1, 12], dtype=np.int32))
    weights = model.get_weights()
    starts = window_starts(loader, 12, 6, steps=3)
    batches = list(window_dataset(loader.splits["train"], starts, 12))

    optimizer = make_optimizer(recipe)
    step = make_train_step(model, optimizer, all_positions=True)
    for X, y in batches:
        step(X, y)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    mirrored, mirrored_optimizer = replicated_model(
        strategy, loader.num_chars, recipe, weights
    )
    distributed_step = make_distributed_train_step(
        strategy, mirrored, mirrored_optimizer, 6, recipe.clipnorm
    )
    for X, y in distributed_windows(strategy, loader.splits["train"], starts, 12):
        distributed_step(X, y)
    for a, b in zip(mirrored.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_distributed_step_refuses_an_optimizer_that_clips():
    recipe = MAIN_RECIPE
    optimizer = make_optimizer(recipe)
    with pytest.raises(ValueError, match="pass clipnorm=recipe.clipnorm"):
        make_distributed_train_step(tf.distribute.get_strategy(), None, optimizer, 64)


def test_worker_script_holds_every_definition(tmp_path):
    path = tmp_path / "worker.py"
    write_worker_script(path, WORKER_DEFINITIONS, run_worker)
    tree = ast.parse(path.read_text())
    defined = {node.name for node in tree.body if hasattr(node, "name")}
    assert {d.__name__ for d in WORKER_DEFINITIONS} <= defined
    recipe_source = source_of(Recipe)
    assert recipe_source.startswith("@dataclass(frozen=True)\nclass Recipe")
    compiled = compile("def no_source_kept(): pass", "<nowhere>", "exec")
    no_source_kept = types.FunctionType(compiled.co_consts[0], {})  # no file to read
    for unknown in (no_source_kept, len):
        with pytest.raises(LookupError, match="cannot find the source"):
            source_of(unknown)


FAKE_WORKER = """
import json, os, sys, time
from pathlib import Path
index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
Path(f"pid_{index}").write_text(str(os.getpid()))
Path(f"gpus_{index}").write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))
behaviour = json.loads(Path("behaviour.json").read_text())[index]
print(json.dumps({"step": 0, "resumed": False}), flush=True)
if behaviour == "crash":
    raise ImportError("No module named 'tensorflow' (a test)")
if behaviour == "hang":
    time.sleep(600)
print(json.dumps({"step": 1, "loss": 2.5, "ms": 10.0}), flush=True)
"""


def fake_job(tmp_path, behaviours):
    np.savez(tmp_path / "arrays.npz", starts=np.zeros([1, 2], dtype=np.int64))
    (tmp_path / "worker.py").write_text(textwrap.dedent(FAKE_WORKER))
    (tmp_path / "behaviour.json").write_text(json.dumps(behaviours))
    return tmp_path


def assert_all_stopped(job_dir, count):
    for index in range(count):
        pid = int((job_dir / f"pid_{index}").read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # no such process: stopped and reaped


def test_a_finished_job_returns_every_workers_reports(tmp_path):
    job = fake_job(tmp_path, ["ok", "ok"])
    shown = []
    reports = run_job(job, 2, timeout_s=60, show=shown.append)
    assert [r[-1]["step"] for r in reports] == [1, 1]
    assert "worker 1" in shown[-1] and "1/1" in shown[-1]
    for index in range(2):  # no worker sees the notebook's GPU
        assert (job / f"gpus_{index}").read_text() == ""


def test_a_worker_that_crashes_stops_the_others(tmp_path):
    job = fake_job(tmp_path, ["hang", "crash"])
    with pytest.raises(WorkerFailed) as failed:
        run_job(job, 2, timeout_s=60)
    message = str(failed.value)
    assert "worker 1 exited with status 1 after step 0" in message
    assert "No module named 'tensorflow' (a test)" in message  # the end of its log
    assert_all_stopped(job, 2)


def test_a_job_that_hangs_times_out_and_stops(tmp_path):
    job = fake_job(tmp_path, ["hang", "hang"])
    with pytest.raises(WorkerFailed, match="did not finish within 3 s"):
        run_job(job, 2, timeout_s=3)
    assert_all_stopped(job, 2)


def test_a_killed_worker_is_named_with_its_signal(tmp_path):
    (tmp_path / "worker_1.log").write_text('{"step": 25, "loss": 2.0, "ms": 9.0}\n')
    assert why_stopped(tmp_path, 1, -9) == (
        "worker 1 was killed by SIGKILL after step 25"
    )


def test_a_worker_whose_port_is_taken_fails_clearly(loader, tmp_path, monkeypatch):
    """A real worker (TensorFlow, MultiWorkerMirroredStrategy) on an address in use."""
    recipe = replace(MAIN_RECIPE, units=8, seq_length=12, batch_size=4)
    model = FusedCharLSTM(loader.num_chars, units=8)
    model(np.zeros([1, 12], dtype=np.int32))
    starts = window_starts(loader, 12, 4, steps=2)
    job = prepare_job(tmp_path / "job", loader, starts, model.get_weights(), recipe, 2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        def taken_first(count):  # the taken port, then free ones
            return [port] + free_ports(count - 1)

        # run_job, in rnnbook.distributed, looks free_ports up when it is called
        monkeypatch.setattr(rnnbook.distributed, "free_ports", taken_first)
        with pytest.raises(WorkerFailed) as failed:
            run_job(job, 2, timeout_s=120)
    message = str(failed.value)
    assert "worker 0 exited with status 1 before it joined the job" in message
    assert f"took its address 127.0.0.1:{port}" in message
    assert "run the job again" in message


def tiny_model(loader, recipe):
    keras.utils.set_random_seed(0)
    model = FusedCharLSTM(loader.num_chars, units=recipe.units)
    model(np.zeros([1, recipe.seq_length], dtype=np.int32))
    return model.get_weights()


def test_reference_models_never_take_the_cudnn_path(loader):
    """On a GPU runtime the replicas here are still CPUs: the reference must be too."""
    recipe = replace(MAIN_RECIPE, units=8, seq_length=12, batch_size=6)
    model = model_from(tiny_model(loader, recipe), loader.num_chars, recipe)
    assert model.lstm.use_cudnn is False
    signature = inspect.signature(train_on_one_device)
    assert signature.parameters["device"].default == "/cpu:0"


def test_fit_equals_one_device_and_resumes_from_its_backup(loader, tmp_path):
    recipe = replace(MAIN_RECIPE, units=8, seq_length=12, batch_size=6)
    recipe = replace(recipe, clipnorm=0.0)
    weights = tiny_model(loader, recipe)
    starts = window_starts(loader, 12, 6, steps=4)
    batches = window_dataset(loader.splits["train"], starts, 12)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])

    fitted = fit_model(strategy, weights, loader.num_chars, recipe)
    fitted.fit(batches, epochs=2, shuffle=False, verbose=0)
    by_step = train_on_one_device(weights, loader.num_chars, recipe, [*batches] * 2)
    for a, b in zip(fitted.get_weights(), by_step, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    first = fit_model(strategy, weights, loader.num_chars, recipe)
    with pytest.raises(RuntimeError, match="interrupted after step 6"):
        first.fit(batches, epochs=2, shuffle=False, verbose=0,
                  callbacks=[backup, StopAfter(6)])  # fmt: skip
    second = fit_model(strategy, weights, loader.num_chars, recipe)
    history = second.fit(
        batches, epochs=2, shuffle=False, verbose=0, callbacks=[backup]
    )
    assert history.epoch == [1]  # only the second epoch was left
    for a, b in zip(second.get_weights(), fitted.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
