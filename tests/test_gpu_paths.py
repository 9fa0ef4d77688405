"""The book's decisions about a GPU, checked on any machine: TensorFlow's answers about
the devices are replaced by a GPU's, and what the code decides from them must run.

Chapter 6 times the fused layer under mixed_bfloat16 where the device has bfloat16
arithmetic, which an A100 or L4 has; there, cuDNN's LSTM kernel must not get bfloat16
(TensorFlow issue #57411), and an error from it, raised when the step runs, would escape
Keras's fallback to its own loop. Chapter 6's mixed_float16 step must scale the loss
itself. Chapter 1 prints the devices that TensorFlow found.
"""

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnnbook.data import DataLoader
from rnnbook.engineering import bf16_plan, fused_under, make_float16_step, time_paths
from rnnbook.model import FusedCharLSTM
from rnnbook.recurrence import describe_devices
from rnnbook.training import make_train_step

A100 = {"device_name": "NVIDIA A100-SXM4-40GB", "compute_capability": (8, 0)}
T4 = {"device_name": "Tesla T4", "compute_capability": (7, 5)}
TEXT = "what is noble? what does the word noble still mean to us nowadays? " * 40


@pytest.fixture
def keras_rnn():
    """Keras's TensorFlow RNN backend, which decides whether cuDNN serves a layer."""
    return importlib.import_module("keras.src.backend.tensorflow.rnn")


def pretend_gpus(monkeypatch, details, count=1):
    """Make TensorFlow report `count` GPUs with these details, beside the CPU."""
    cpu = tf.config.PhysicalDevice("/physical_device:CPU:0", "CPU")
    gpus = [
        tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
        for i in range(count)
    ]
    found = {"CPU": [cpu], "GPU": gpus}

    def list_physical_devices(device_type=None):
        return [cpu, *gpus] if device_type is None else found.get(device_type, [])

    monkeypatch.setattr(tf.config, "list_physical_devices", list_physical_devices)
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details", lambda device: dict(details)
    )


def test_bf16_plan_on_an_ampere_gpu_leaves_cudnn_out(keras_rnn, monkeypatch):
    pretend_gpus(monkeypatch, A100)
    paths, why = bf16_plan()
    assert len(why) <= 88 and "8.0" in why and "cuDNN" in why
    assert set(paths) == {
        f"{name}, {policy}"
        for name in ("fused, tf.function", "fused, XLA")
        for policy in ("float32", "mixed_bfloat16")
    }
    for name, (build, compiled, jit_compile) in paths.items():
        assert compiled and jit_compile == ("XLA" in name), name
        model = build(11, units=8)
        assert model.lstm.use_cudnn is False, name
        expected = "bfloat16" if "bfloat16" in name else "float32"
        assert model.lstm.compute_dtype == expected, name
        assert model.lstm.variable_dtype == "float32", name
    assert keras.mixed_precision.dtype_policy().name == "float32"  # restored

    # Keras would now pick cuDNN for a layer that allows it; the plan's do not ask.
    monkeypatch.setattr(keras_rnn, "_is_gpu_available", lambda: True)
    loader = DataLoader(TEXT)
    times = time_paths(loader, paths, (4, 8, True), count=3, rounds=1)
    assert all(np.isfinite(ms) and ms > 0 for _, ms, _ in times.values()), times


@pytest.mark.parametrize("details", [T4, {}], ids=["compute capability 7.5", "none"])
def test_bf16_plan_on_an_older_gpu_measures_nothing(monkeypatch, details):
    pretend_gpus(monkeypatch, details)
    paths, why = bf16_plan()
    assert paths == {}
    assert len(why) <= 88 and "no bfloat16" in why
    assert ("7.5" in why) == (details == T4)


def test_cudnn_under_bfloat16_is_what_the_plan_avoids(keras_rnn, monkeypatch):
    """The failure the plan's use_cudnn=False prevents, reproduced on a CPU: under
    mixed_bfloat16, with cuDNN allowed, the compiled step raises when it runs."""
    if tf.config.list_logical_devices("GPU"):
        pytest.skip("a real GPU: whether cuDNN runs bfloat16 depends on its version")
    monkeypatch.setattr(keras_rnn, "_is_gpu_available", lambda: True)
    keras.utils.set_random_seed(0)
    model = fused_under("mixed_bfloat16")(11, units=8)
    step = make_train_step(model, keras.optimizers.Adam(1e-3), True)
    X = np.zeros([2, 5], dtype=np.int32)
    with pytest.raises((TypeError, tf.errors.InvalidArgumentError)):
        step(X, X)


def weights_after_one_step(policy, make_step, optimizer, weights, batch):
    model = fused_under(policy)(11, units=8)
    model(np.zeros([1, 1], dtype=np.int32))
    model.set_weights(weights)
    loss = make_step(model, optimizer)(*batch)
    return model, float(loss)


def test_float16_step_scales_the_loss_and_unscales_the_gradients():
    """One step under mixed_float16 runs on a CPU, keeps a power-of-2 scale, and moves
    the weights as the float32 step does (plain SGD: the update is the gradient)."""
    keras.utils.set_random_seed(0)
    start = FusedCharLSTM(11, units=8)
    start(np.zeros([1, 1], dtype=np.int32))
    weights = start.get_weights()
    rng = np.random.default_rng(0)
    batch = (rng.integers(0, 11, (16, 12)), rng.integers(0, 11, (16, 12)))

    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0))
    half, half_loss = weights_after_one_step(
        "mixed_float16", make_float16_step, scaled, weights, batch
    )
    assert half.lstm.compute_dtype == "float16"
    assert np.isfinite(half_loss)
    scale = float(scaled.dynamic_scale)
    assert scale >= 1 and np.log2(scale) == int(np.log2(scale))

    def float32_step(model, optimizer):
        return make_train_step(model, optimizer, all_positions=True)

    full, full_loss = weights_after_one_step(
        "float32", float32_step, keras.optimizers.SGD(1.0), weights, batch
    )
    np.testing.assert_allclose(half_loss, full_loss, rtol=1e-2)
    moved_half = np.concatenate(
        [(w - w0).ravel() for w, w0 in zip(half.get_weights(), weights)]
    )
    moved_full = np.concatenate(
        [(w - w0).ravel() for w, w0 in zip(full.get_weights(), weights)]
    )
    assert np.linalg.norm(moved_half) > 0, "the step did not change the weights"
    cosine = moved_half @ moved_full
    cosine /= np.linalg.norm(moved_half) * np.linalg.norm(moved_full)
    assert cosine > 0.99
    # An unscaled gradient: the same length as float32's, not 2^15 times it.
    ratio = np.linalg.norm(moved_half) / np.linalg.norm(moved_full)
    assert 0.9 < ratio < 1.1, ratio
    assert tf.reduce_all(tf.math.is_finite(moved_half))


def test_describe_devices_names_a_gpu_and_its_compute_capability(monkeypatch):
    line = describe_devices()
    assert line.startswith("Devices: ") and "CPU:0" in line and len(line) <= 88
    pretend_gpus(monkeypatch, A100)
    assert describe_devices() == (
        "Devices: CPU:0, GPU:0 (NVIDIA A100-SXM4-40GB, compute capability 8.0)"
    )
    pretend_gpus(monkeypatch, {})  # a GPU that reports no details
    assert describe_devices() == "Devices: CPU:0, GPU:0"
    pretend_gpus(monkeypatch, A100, count=8)
    line = describe_devices()
    assert len(line) == 88 and line.endswith("...")
