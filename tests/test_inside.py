"""Chapter 6's exported helpers, on small synthetic data where the answer is known."""

import html
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnbook.inside
from rnnbook.data import DataLoader
from rnnbook.inside import (
    best_unit,
    char_classes,
    distance_back,
    line_counter,
    make_intervention,
    make_recorder,
    mean_interval,
    newline_by_fill,
    pearson_r,
    r_squared,
    random_words,
    ridge_probe,
    saturation,
    shade_text,
    shift_null,
    text_features,
    top_contexts,
    unit_contexts,
    wrapped_words,
)
from rnnbook.model import CharLSTM

TEXT = 'he said "no (not yet)" and left.\nthen: "why?" [twice]\n' * 12


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    loader = DataLoader(TEXT)
    model = CharLSTM(loader.num_chars, units=8)
    model(np.zeros([1, 1], dtype=np.int32))
    return loader, model


def test_a_planted_unit_is_found_with_r_equal_to_1():
    rng = np.random.default_rng(0)
    feature = rng.normal(size=500)
    readable = {"h": rng.normal(size=(500, 16)), "tanh(c)": rng.normal(size=(500, 16))}
    readable["h"][:, 11] = 3 * feature + 2  # any affine copy of the feature: r = 1
    layer, unit, r = best_unit(readable, feature)
    assert (layer, unit) == ("h", 11)
    assert r == pytest.approx(1.0, abs=1e-12)
    readable["h"][:, 11] = rng.normal(size=500)
    readable["tanh(c)"][:, 4] = -feature  # a perfect anti-correlation: |r| = 1
    assert best_unit(readable, feature)[:2] == ("tanh(c)", 4)
    assert best_unit(readable, feature)[2] == pytest.approx(-1)


def sawtooth_and_smooth_noise(seed, n=12_000, units=32):
    """A line-position-like sawtooth, and slowly varying noise activations."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(40, 90, size=n // 40)
    feature = np.concatenate([np.arange(k) for k in lengths])[:n].astype(float)
    noise = rng.normal(size=(n + 49, units))
    kernel = np.ones(50) / 50
    smooth = np.stack([np.convolve(noise[:, u], kernel, "valid") for u in range(units)])
    return feature, smooth.T[:n].copy(), rng


def test_a_planted_unit_clears_its_shift_null():
    feature, acts, rng = sawtooth_and_smooth_noise(0)
    acts[:, 7] = np.tanh(feature / 40) + 0.5 * rng.normal(size=len(feature))
    layer, unit, r = best_unit({"h": acts}, feature)
    null = shift_null({"h": acts}, feature, shifts=50)
    assert (layer, unit) == ("h", 7)
    assert len(null) == 50 and abs(r) > 2 * null.max()


def test_a_shuffled_unit_stays_within_its_shift_null():
    """The same unit, its values shuffled in time: the largest |r| over the units is
    no larger than what circular shifts give."""
    feature, acts, rng = sawtooth_and_smooth_noise(1)
    acts[:, 7] = rng.permutation(np.tanh(feature / 40))
    _, _, r = best_unit({"h": acts}, feature)
    null = shift_null({"h": acts}, feature, shifts=50)
    assert abs(r) < np.percentile(null, 99)


def test_the_shift_null_is_the_largest_r_of_the_shifted_feature():
    """shift_null's one matrix product gives what pearson_r gives shift by shift."""
    feature, acts, _ = sawtooth_and_smooth_noise(4, n=3000, units=6)
    readable = {"h": acts[:, :3], "tanh(c)": acts[:, 3:]}
    null = shift_null(readable, feature, shifts=5, seed=3)
    offsets = np.random.default_rng(3).integers(300, 2700, size=5)
    expected = [np.abs(pearson_r(acts, np.roll(feature, k))).max() for k in offsets]
    np.testing.assert_allclose(null, expected, rtol=1e-9)


def test_the_probe_finds_a_spread_code_and_not_noise():
    feature, acts, rng = sawtooth_and_smooth_noise(2)
    # No unit holds the feature, but a difference of two units does.
    common = 10 * feature.std() * acts[:, 5] / acts[:, 5].std()
    spread = acts.copy()
    spread[:, 0], spread[:, 1] = feature + common, common
    assert abs(best_unit({"h": spread}, feature)[2]) < 0.3
    r2, low, high = r_squared(feature, ridge_probe(spread, feature))
    assert r2 > 0.99 and low > 0.99 and low <= r2 <= high
    r2, low, high = r_squared(feature, ridge_probe(acts, feature))
    assert r2 < 0.05 and low < 0.02


def test_the_probe_predicts_each_block_from_the_others_only():
    """A feature that is a different linear function of X in each block cannot be
    predicted from the other blocks: a probe fitted on its own block would."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1000, 3))
    y = np.concatenate(
        [X[i * 100 : (i + 1) * 100] @ rng.normal(size=3) for i in range(10)]
    )
    r2, _, _ = r_squared(y, ridge_probe(X, y), block=50)
    assert r2 < 0.5
    same = X @ np.array([1.0, -2.0, 0.5]) + 3.0  # one function everywhere: found
    np.testing.assert_allclose(ridge_probe(X, same, alpha=1e-9), same, atol=1e-6)


def test_r_squared_of_perfect_and_of_mean_predictions():
    y = np.random.default_rng(7).normal(size=5000)
    assert r_squared(y, y.copy()) == (1.0, 1.0, 1.0)
    r2, low, high = r_squared(y, np.full_like(y, y.mean()))
    assert r2 == pytest.approx(0.0, abs=1e-12) and low <= 0 <= high + 1e-12


def test_mean_interval_resamples_blocks():
    rng = np.random.default_rng(6)
    values, positions = rng.normal(loc=1.0, size=400), np.arange(400) * 25
    mean, low, high = mean_interval(values, positions)  # 10 blocks of 40
    assert mean == pytest.approx(values.mean())
    assert low < mean < high and high - low == pytest.approx(0.2, abs=0.08)
    # The same values, but every block's values alike: far fewer independent draws,
    # so a much wider interval than resampling single characters would give.
    alike = np.repeat(rng.normal(loc=1.0, size=10), 40)
    _, low, high = mean_interval(alike, positions)
    assert high - low > 0.5


def test_distance_back_to_the_opener():
    text = 'ab (cd) "e"\nxy [z]\n'
    back = distance_back(text)
    assert back[text.index(")")] == 3
    assert back[text.index('"', 9)] == 2
    assert back[text.index("]")] == 2
    assert list(back[[i for i, ch in enumerate(text) if ch == "\n"]]) == [12, 7]
    assert back.sum() == 3 + 2 + 2 + 12 + 7


def test_pearson_r_matches_numpy():
    rng = np.random.default_rng(1)
    activations, feature = rng.normal(size=(200, 5)), rng.normal(size=200)
    expected = [np.corrcoef(activations[:, j], feature)[0, 1] for j in range(5)]
    np.testing.assert_allclose(pearson_r(activations, feature), expected)
    activations[:, 2] = 7.0  # a unit that never changes correlates with nothing
    assert pearson_r(activations, feature)[2] == 0.0


def test_saturation_fractions_of_constructed_gates():
    gate = np.array(
        [
            [0.05, 0.95, 0.5, 0.1],
            [0.05, 0.95, 0.5, 0.9],
            [0.05, 0.50, 0.5, 0.0],
            [0.95, 0.95, 0.5, 1.0],
        ]
    )
    left, right = saturation(gate)
    np.testing.assert_allclose(left, [0.75, 0.0, 0.0, 0.25])  # 0.1 is not below 0.1
    np.testing.assert_allclose(right, [0.25, 0.75, 0.0, 0.25])  # 0.9 is not above 0.9


def test_the_renderer_escapes_html():
    text = '<b>&"x"\'</b>'
    page = shade_text(text, np.linspace(0, 1, len(text))).data
    shown = re.findall(r"<span [^>]*>([^<]*)</span>", page)
    assert "".join(shown) == html.escape(text)  # every character, each escaped
    assert "<b>" not in page and "</b>" not in page
    titled = shade_text("ab", [0, 1], title="<script>").data
    assert "<script>" not in titled and "&lt;script&gt;" in titled


def test_recording_equals_the_keras_cell(small):
    loader, model = small
    text = TEXT[:60]
    recorded = make_recorder(model)(loader, text)
    one_hot = tf.one_hot(loader.encode(text), loader.num_chars)
    state = model.initial_state(1)
    for t in range(len(text)):
        _, state = model.cell(one_hot[t][None], state)
        np.testing.assert_allclose(recorded["h"][t], state[0][0], atol=1e-5)
        np.testing.assert_allclose(recorded["c"][t], state[1][0], atol=1e-5)
    c = recorded["c"]
    np.testing.assert_allclose(
        c[1:],
        recorded["f"][1:] * c[:-1] + recorded["i"][1:] * recorded["g"][1:],
        atol=1e-5,
    )


def test_windows_are_read_each_from_a_zero_state(small):
    loader, model = small
    text = TEXT[:100]
    record = make_recorder(model)
    windowed = record(loader, text, window=16)
    assert windowed["h"].shape == (96, model.units)  # the 4 characters left over: cut
    for start in (0, 16, 80):
        alone = record(loader, text[start : start + 16])
        for name in ("c", "h", "logits"):
            np.testing.assert_allclose(
                windowed[name][start : start + 16], alone[name], atol=1e-6
            )


def test_the_intervention_holds_units_and_otherwise_equals_the_recorder(small):
    loader, model = small
    text = TEXT[:80]
    masks = np.r_[np.ones((1, model.units)), np.zeros((1, model.units))]
    losses = make_intervention(model, masks, np.zeros(model.units))(loader, text)
    assert losses.shape == (len(text) - 1, 2)
    targets = loader.encode(text)[1:]
    logits = make_recorder(model)(loader, text)["logits"][:-1]
    expected = keras.losses.sparse_categorical_crossentropy(
        targets, logits, from_logits=True
    )
    np.testing.assert_allclose(losses[:, 1], expected, atol=1e-5)  # nothing held
    # Every unit of h held at 0: the output layer sees only its bias, at every step.
    bias = model.dense.get_weights()[1]
    from_bias = np.log(np.exp(bias).sum()) - bias[targets]
    np.testing.assert_allclose(losses[:, 0], from_bias, atol=1e-5)


def test_text_features_on_a_known_text():
    features = text_features('ab "c (d)"\nxy.')
    np.testing.assert_array_equal(
        features["line position"], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3]
    )
    np.testing.assert_array_equal(
        features["inside quotes"], [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    )
    np.testing.assert_array_equal(
        features["inside brackets"], [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    )
    np.testing.assert_array_equal(
        features["word position"], [1, 2, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 2, 0]
    )


def test_character_classes():
    classes = char_classes('ab "c"\n(1).')
    assert list(classes) == [
        "word start",
        "later letter",
        "space",
        "other punctuation",
        "word start",
        "closing quote or bracket",
        "newline",
        "other punctuation",
        "digit",
        "closing quote or bracket",
        "other punctuation",
    ]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda loader, model: make_recorder(model)(loader, ""), "empty"),
        (
            lambda loader, model: make_recorder(model)(loader, "Über"),
            "not in the vocabulary",
        ),
        (lambda loader, model: text_features(""), "empty"),
        (lambda loader, model: char_classes(""), "empty"),
        (lambda loader, model: shade_text("", []), "empty"),
        (lambda loader, model: shade_text("abc", [1, 2]), "one value per"),
        (
            lambda loader, model: pearson_r(np.ones((5, 2)), np.arange(4)),
            "same text",
        ),
        (
            lambda loader, model: pearson_r(np.ones((5, 2)), np.zeros(5)),
            "constant",
        ),
        (lambda loader, model: saturation(np.zeros(5)), "shape"),
    ],
)
def test_bad_input_gets_a_clear_error(small, call, message):
    loader, model = small
    with pytest.raises(ValueError, match=message):
        call(loader, model)


def test_top_contexts_finds_the_peaks_without_overlap():
    values = np.zeros(1000)
    values[[100, 120, 500, 990]] = [0.9, 0.8, 0.7, 0.6]  # 120 is within 50 of 100
    found = top_contexts(values, k=3, before=40, after=10)
    assert found == [(60, 111), (460, 511), (950, 1000)]  # the last one cut at the end
    assert len(top_contexts(values, k=100)) < 100  # no room for 100


def test_unit_contexts_shades_on_one_fixed_scale_and_escapes():
    text = "ab<c>" * 40
    values = np.linspace(-1, 1, len(text))
    page = unit_contexts(text, values, title="<unit>", k=2, before=4, after=0).data
    assert "&lt;unit&gt;" in page and "<unit>" not in page
    assert "blue: -1, white: 0, red: +1" in page  # the legend, in words
    shown = re.findall(r'title="([-0-9.]+)">([^<]*)</span>', page)
    assert len(shown) == 10  # two passages of 4 + 1 characters
    assert shown[4] == ("1.00", "&gt;")  # the highest value, at the end, escaped
    # A value of 0 is white-ish on every passage, whatever the passage's own range.
    white = unit_contexts("abc", [0.0, 0.0, 0.5], k=1, before=2).data
    assert "rgb(251,251,251)" in white


def test_unit_contexts_shows_the_low_end_of_a_falling_unit():
    text = "abcdefghij" * 20
    values = np.linspace(1, -1, len(text))  # lowest at the end
    page = unit_contexts(text, values, k=1, before=4, after=0, sign=-1).data
    shown = re.findall(r'title="([-0-9.]+)">([^<]*)</span>', page)
    assert shown[-1] == ("-1.00", "j")  # the passage ends at the lowest value


def test_wrapped_words_wraps_greedily_within_the_width():
    words = random_words(2_000, seed=1)
    assert all(1 <= len(w) <= 8 and w.isalpha() for w in words)
    text = wrapped_words(words, 30, 5_000)
    lines = text.split("\n")[:-1]  # the last line may be cut short
    assert len(text) == 5_000 and all(len(line) <= 30 for line in lines)
    for line, after in zip(lines, text.split("\n")[1:]):
        assert (
            len(line) + 1 + len(after.split(" ")[0]) > 30
        )  # the next word did not fit


def test_newline_by_fill_bins_word_ends_by_the_line_so_far():
    text = "ab cd\nef gh\nij"
    loader = DataLoader(text * 20)
    logits = np.zeros((len(text), loader.num_chars))
    logits[:, loader.char_indices["\n"]] = np.log(3.0)  # P(newline) = 3 / (n + 2)
    rows = newline_by_fill(logits, loader, text, [0, 3, 6])
    # Word ends: after "ab" (fill 2, a space), "cd" (5, a newline), "ef" (2), "gh" (5).
    p = 3 / (loader.num_chars + 2)
    assert [row[:3] for row in rows] == [("0-2", 2, 0.0), ("3-5", 2, 1.0)]
    assert [row[3] for row in rows] == pytest.approx([p, p])


def test_line_counter_finds_a_counter_planted_in_the_recording(monkeypatch):
    text = "abcd efg\n" * 60
    loader = DataLoader(text)
    line = text_features(text)["line position"]
    rng = np.random.default_rng(0)
    recording = {k: rng.normal(size=(len(text), 4)) for k in "ifgoc"}
    recording["h"] = rng.normal(size=(len(text), 4)) * 0.1
    recording["h"][:, 2] = np.tanh(line / 9)  # a unit that counts, planted
    recording["logits"] = np.zeros((len(text), loader.num_chars))
    # line_counter, in rnnbook.inside, looks make_recorder up when it is called
    monkeypatch.setattr(
        rnnbook.inside, "make_recorder", lambda model: lambda ld, t: recording
    )
    found = line_counter(None, loader, text, [0, 5, 10], shifts=20, draws=50)
    assert found["unit"] == "h[2]" and found["r"] > 0.9
    assert found["probe"][0] > 0.9 and len(found["newlines"]) == 2
