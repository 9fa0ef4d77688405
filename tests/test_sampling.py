"""The sampling chapter's exported code: temperatures, prompts, and the two generators
agreeing.
"""

import numpy as np
import pytest

from book_tools import exported_namespace

TEXT = (
    "supposing that truth is a woman--what then? is there not ground for suspecting "
    * 30
)


@pytest.fixture(scope="module")
def code():
    return exported_namespace("05_sampling")


@pytest.fixture(scope="module")
def setup(code):
    code["keras"].utils.set_random_seed(0)
    loader = code["DataLoader"](TEXT)
    model = code["CharLSTM"](loader.num_chars, units=16)
    return loader, model, code["make_stepper"](model)


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf"), float("-inf")])
def test_invalid_temperatures_are_refused(code, setup, bad):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        code["generate"](model, loader, "truth", 5, temperature=bad, stepper=stepper)
    with pytest.raises(ValueError, match="temperature must be"):
        code["generate_refeed"](model, loader, "truth", 5, temperature=bad)


def test_temperature_limits(code):
    softmax = code["softmax_with_temperature"]
    z = np.array([[3.0, 1.0, -2.0]])
    np.testing.assert_allclose(softmax(z, 1e-4), [[1.0, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(softmax(z, 1e7), np.full((1, 3), 1 / 3), atol=1e-6)
    np.testing.assert_allclose(softmax(z, 1.0), np.exp(z) / np.exp(z).sum())


def test_samples_follow_the_distribution(code):
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.5, 0.3, 0.2]])).repeat(20_000, axis=0)
    draws = code["sample_next"](logits, 1.0, rng)
    np.testing.assert_allclose(
        np.bincount(draws, minlength=3) / len(draws), [0.5, 0.3, 0.2], atol=0.02
    )


def test_both_generators_agree_within_the_window(code, setup):
    loader, model, stepper = setup
    refeed = code["generate_refeed"](
        model, loader, "truth", 30, temperature=1.0, seed=5
    )
    stateful = code["generate"](
        model, loader, "truth", 30, temperature=1.0, seed=5, stepper=stepper
    )
    assert refeed == stateful[0] and len(refeed) == 30


def test_seeds_reproduce_and_batches_differ(code, setup):
    loader, model, stepper = setup
    a = code["generate"](
        model, loader, "Truth", 50, seed=1, num_samples=3, stepper=stepper
    )
    b = code["generate"](
        model, loader, "Truth", 50, seed=1, num_samples=3, stepper=stepper
    )
    assert a == b and len(set(a)) == 3 and all(len(s) == 50 for s in a)


@pytest.mark.parametrize(
    "prompt, message",
    [("", "the prompt is empty"), ("wahrheit ist ein weib ß", r"'ß' \(U\+00DF\)")],
)
def test_bad_prompts_are_refused(code, setup, prompt, message):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match=message):
        code["generate"](model, loader, prompt, 5, stepper=stepper)


@pytest.mark.parametrize("num_samples", [0, -1, 2.0, True])
def test_num_samples_must_be_a_positive_integer(code, setup, num_samples):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match="num_samples"):
        code["generate"](
            model, loader, "truth", 5, num_samples=num_samples, stepper=stepper
        )
