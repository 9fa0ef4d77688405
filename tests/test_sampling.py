"""The sampling chapter's exported code: temperatures, prompts, and the two generators
agreeing.
"""

import keras
import numpy as np
import pytest

from rnnbook.data import DataLoader
from rnnbook.model import CharLSTM
from rnnbook.sampling import (
    generate,
    generate_refeed,
    keep_top_k,
    keep_top_p,
    make_stepper,
    sample_next,
    softmax_with_temperature,
)

TEXT = (
    "supposing that truth is a woman--what then? is there not ground for suspecting "
    * 30
)


@pytest.fixture(scope="module")
def setup():
    keras.utils.set_random_seed(0)
    loader = DataLoader(TEXT)
    model = CharLSTM(loader.num_chars, units=16)
    return loader, model, make_stepper(model)


@pytest.mark.parametrize("bad", [0, -0.5, float("nan"), float("inf"), float("-inf")])
def test_invalid_temperatures_are_refused(setup, bad):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        generate(model, loader, "truth", 5, temperature=bad, stepper=stepper)
    with pytest.raises(ValueError, match="temperature must be"):
        generate_refeed(model, loader, "truth", 5, temperature=bad)


def test_temperature_limits():
    softmax = softmax_with_temperature
    z = np.array([[3.0, 1.0, -2.0]])
    np.testing.assert_allclose(softmax(z, 1e-4), [[1.0, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(softmax(z, 1e7), np.full((1, 3), 1 / 3), atol=1e-6)
    np.testing.assert_allclose(softmax(z, 1.0), np.exp(z) / np.exp(z).sum())


def test_samples_follow_the_distribution():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.5, 0.3, 0.2]])).repeat(20_000, axis=0)
    draws = sample_next(logits, 1.0, rng)
    np.testing.assert_allclose(
        np.bincount(draws, minlength=3) / len(draws), [0.5, 0.3, 0.2], atol=0.02
    )


def test_both_generators_agree_within_the_window(setup):
    loader, model, stepper = setup
    refeed = generate_refeed(model, loader, "truth", 30, temperature=1.0, seed=5)
    stateful = generate(
        model, loader, "truth", 30, temperature=1.0, seed=5, stepper=stepper
    )
    assert refeed == stateful[0] and len(refeed) == 30


def test_seeds_reproduce_and_batches_differ(setup):
    loader, model, stepper = setup
    a = generate(model, loader, "Truth", 50, seed=1, num_samples=3, stepper=stepper)
    b = generate(model, loader, "Truth", 50, seed=1, num_samples=3, stepper=stepper)
    assert a == b and len(set(a)) == 3 and all(len(s) == 50 for s in a)


@pytest.mark.parametrize(
    "prompt, message",
    [("", "the prompt is empty"), ("wahrheit ist ein weib ß", r"'ß' \(U\+00DF\)")],
)
def test_bad_prompts_are_refused(setup, prompt, message):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match=message):
        generate(model, loader, prompt, 5, stepper=stepper)


@pytest.mark.parametrize("num_samples", [0, -1, 2.0, True])
def test_num_samples_must_be_a_positive_integer(setup, num_samples):
    loader, model, stepper = setup
    with pytest.raises(ValueError, match="num_samples"):
        generate(model, loader, "truth", 5, num_samples=num_samples, stepper=stepper)


def test_the_stepper_is_compiled_once_per_model(setup):
    """generate() without stepper= reuses one traced step instead of a new one."""
    loader, model, stepper = setup
    assert make_stepper(model) is stepper
    generate(model, loader, "truth", 3, seed=0)
    generate(model, loader, "truth", 3, seed=1, num_samples=2)
    assert stepper.experimental_get_tracing_count() == 1


def test_no_characters_and_one_character(setup):
    loader, model, _ = setup
    assert generate(model, loader, "truth", 0, num_samples=2) == ["", ""]
    assert len(generate(model, loader, "t", 1)[0]) == 1


def test_top_k_keeps_the_k_most_likely():
    z = np.log(np.array([[0.05, 0.5, 0.15, 0.3], [0.4, 0.1, 0.3, 0.2]]))
    kept = np.isfinite(keep_top_k(2)(z))
    np.testing.assert_array_equal(kept, [[0, 1, 0, 1], [1, 0, 1, 0]])


@pytest.mark.parametrize(
    "p, expected",
    [
        (1e-9, [0, 1, 0, 0]),
        (0.5, [0, 1, 0, 0]),
        (0.79, [0, 1, 0, 1]),
        (0.81, [0, 1, 1, 1]),
    ],
)
def test_top_p_keeps_the_smallest_set_that_holds_p(p, expected):
    z = np.log(np.array([[0.05, 0.5, 0.15, 0.3]]))
    np.testing.assert_array_equal(np.isfinite(keep_top_p(p)(z))[0], expected)


def test_top_1_is_greedy(setup):
    """k = 1 writes the argmax at every step, whatever the seed and temperature."""
    loader, model, stepper = setup
    top1 = generate(model, loader, "truth", 20, 1.5, seed=3, truncate=keep_top_k(1))[0]
    codes = list(loader.encode("truth"))
    for _ in range(20):
        codes.append(int(np.argmax(model(np.array([codes]))[0])))
    assert top1 == loader.decode(codes[-20:])


def test_the_stored_samples_fit_on_a_screen():
    """Chapter 5's stored outputs: every text block (split at blank lines and at the
    side-by-side headers) that is not a table of numbers is at most about 600
    characters, except one long sample."""
    import json
    import re

    from book_tools import ROOT

    nb = json.loads((ROOT / "book" / "05_sampling.ipynb").read_text(encoding="utf-8"))
    blocks = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text)
            blocks += re.split(r"\n\s*\n|^----- .* -----$", text, flags=re.M)
    samples = [b for b in blocks if sum(c.isdigit() for c in b) < 0.05 * len(b)]
    long = [block for block in samples if len(block) > 600]  # tables are not samples
    assert len(long) == 1, [block[:60] for block in long]
    assert long[0].startswith("the free spirit")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_top_k_refuses_a_k_that_keeps_no_character(bad):
    with pytest.raises(ValueError, match="k must be a whole number"):
        keep_top_k(bad)


@pytest.mark.parametrize("bad", [0, -0.1, 1.5])
def test_top_p_refuses_a_p_outside_its_range(bad):
    with pytest.raises(ValueError, match="p must be a probability"):
        keep_top_p(bad)
