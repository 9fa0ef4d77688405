"""The model chapter's exported code: any batch size, logits, clear errors, fused
equivalence.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnnbook.data import explain
from rnnbook.model import CharLSTM, FusedCharLSTM


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    model = CharLSTM(num_chars=11, units=8)
    model(np.zeros([1, 3], dtype=np.int32))
    return model


def test_parameter_count(model):
    m, n = 11, 8
    assert model.count_params() == 4 * (m * n + n * n + n) + n * m + m


@pytest.mark.parametrize("batch", [1, 3, 50])
def test_state_follows_the_batch(model, batch):
    X = np.random.default_rng(batch).integers(0, 11, size=(batch, 5))
    assert model(X).shape == (batch, 11)
    assert model(X, all_positions=True).shape == (batch, 5, 11)
    np.testing.assert_allclose(model(X[:1]), model(X)[:1], rtol=1e-5, atol=1e-6)


def test_state_can_be_carried(model):
    X = np.random.default_rng(0).integers(0, 11, size=(2, 6))
    whole = model(X)
    _, state = model(X[:, :4], return_state=True)
    np.testing.assert_allclose(
        model(X[:, 4:], state=state), whole, rtol=1e-5, atol=1e-6
    )


def test_fused_model_matches(model):
    fused = FusedCharLSTM(num_chars=11, units=8)
    X = np.random.default_rng(2).integers(0, 11, size=(4, 7))
    fused(X)
    fused.set_weights(model.get_weights())
    np.testing.assert_allclose(
        fused(X, all_positions=True), model(X, all_positions=True), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "inputs, error, message",
    [
        (np.array([[1, 11]]), ValueError, r"index 11 is outside \[0, 11\)"),
        (np.array([[-1, 2]]), ValueError, r"index -1 is outside"),
        (np.array([1, 2, 3]), ValueError, r"shape \[batch, seq_length\]"),
        (np.zeros([2, 0], dtype=np.int32), ValueError, "empty"),
        (np.array([[0.5]]), TypeError, "integer"),
    ],
)
def test_bad_inputs_are_refused(model, inputs, error, message):
    with pytest.raises(error, match=message):
        model(inputs)


def test_out_of_range_index_fails_inside_tf_function(model):
    run = tf.function(lambda x: model(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match="index >= num_chars"):
        run(tf.constant([[1, 11]]))


def test_explain_shows_the_message_keras_wraps(model, capsys):
    """Keras wraps an error raised in call() with the call's arguments; explain shows
    the message itself, as the chapter's outputs do."""
    explain(lambda: model(np.array([[1, 11]])))
    out = capsys.readouterr().out
    assert out.startswith("ValueError: character index 11 is outside [0, 11)"), out
    assert "Arguments received" not in out and "\x1b" not in out


def test_the_model_does_not_override_keras_call():
    for model_class in (CharLSTM, FusedCharLSTM):
        assert "__call__" not in vars(model_class), model_class.__name__
