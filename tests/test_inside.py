"""Chapter 6's exported helpers, on small synthetic data where the answer is known."""

import html
import re

import numpy as np
import pytest

from book_tools import exported_namespace

TEXT = 'he said "no (not yet)" and left.\nthen: "why?" [twice]\n' * 12


@pytest.fixture(scope="module")
def code():
    return exported_namespace("06_inside_the_lstm")


@pytest.fixture(scope="module")
def small(code):
    code["keras"].utils.set_random_seed(0)
    loader = code["DataLoader"](TEXT)
    model = code["CharLSTM"](loader.num_chars, units=8)
    model(np.zeros([1, 1], dtype=np.int32))
    return loader, model


def test_a_planted_unit_is_found_with_r_equal_to_1(code):
    rng = np.random.default_rng(0)
    feature = rng.normal(size=500)
    recorded = {"c": rng.normal(size=(500, 16)), "h": rng.normal(size=(500, 16))}
    recorded["h"][:, 11] = 3 * feature + 2  # any affine copy of the feature: r = 1
    layer, unit, r = code["best_unit"](recorded, feature)
    assert (layer, unit) == ("h", 11)
    assert r == pytest.approx(1.0, abs=1e-12)
    recorded["c"][:, 4] = -feature  # a perfect anti-correlation is as good: |r| = 1
    assert code["best_unit"](recorded, feature, layers=("c",))[:2] == ("c", 4)
    assert code["best_unit"](recorded, feature, layers=("c",))[2] == pytest.approx(-1)


def test_a_feature_spread_over_units_is_found_by_the_probe(code):
    rng = np.random.default_rng(2)
    feature = rng.normal(size=2000)
    recorded = {"c": rng.normal(size=(2000, 8)), "h": rng.normal(size=(2000, 8))}
    # No unit holds the feature, but a weighted sum of three of them does.
    recorded["c"][:, 0] = feature + recorded["h"][:, 1]
    recorded["h"][:, 2] = feature - recorded["h"][:, 1]
    assert abs(code["best_unit"](recorded, feature)[2]) < 0.8
    assert code["linear_probe_r"](recorded, feature) == pytest.approx(1.0, abs=1e-9)


def test_pearson_r_matches_numpy(code):
    rng = np.random.default_rng(1)
    activations, feature = rng.normal(size=(200, 5)), rng.normal(size=200)
    expected = [np.corrcoef(activations[:, j], feature)[0, 1] for j in range(5)]
    np.testing.assert_allclose(code["pearson_r"](activations, feature), expected)
    activations[:, 2] = 7.0  # a unit that never changes correlates with nothing
    assert code["pearson_r"](activations, feature)[2] == 0.0


def test_saturation_fractions_of_constructed_gates(code):
    gate = np.array(
        [
            [0.05, 0.95, 0.5, 0.1],
            [0.05, 0.95, 0.5, 0.9],
            [0.05, 0.50, 0.5, 0.0],
            [0.95, 0.95, 0.5, 1.0],
        ]
    )
    left, right = code["saturation"](gate)
    np.testing.assert_allclose(left, [0.75, 0.0, 0.0, 0.25])  # 0.1 is not below 0.1
    np.testing.assert_allclose(right, [0.25, 0.75, 0.0, 0.25])  # 0.9 is not above 0.9


def test_the_renderer_escapes_html(code):
    text = '<b>&"x"\'</b>'
    page = code["shade_text"](text, np.linspace(0, 1, len(text))).data
    shown = re.findall(r"<span [^>]*>([^<]*)</span>", page)
    assert "".join(shown) == html.escape(text)  # every character, each escaped
    assert "<b>" not in page and "</b>" not in page
    titled = code["shade_text"]("ab", [0, 1], title="<script>").data
    assert "<script>" not in titled and "&lt;script&gt;" in titled


def test_recording_equals_the_keras_cell(code, small):
    loader, model = small
    text = TEXT[:60]
    recorded = code["make_recorder"](model)(loader, text)
    one_hot = code["tf"].one_hot(loader.encode(text), loader.num_chars)
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


def test_a_clamped_unit_stays_at_its_value(code, small):
    loader, model = small
    recorded = code["make_recorder"](model, clamp=(3, 0.25))(loader, TEXT[:40])
    np.testing.assert_allclose(recorded["c"][:, 3], 0.25)


def test_text_features_on_a_known_text(code):
    features = code["text_features"]('ab "c (d)"\nxy.')
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


def test_character_classes(code):
    classes = code["char_classes"]('ab "c"\n(1).')
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
        (lambda c, loader, model: c["make_recorder"](model)(loader, ""), "empty"),
        (
            lambda c, loader, model: c["make_recorder"](model)(loader, "Über"),
            "not in the vocabulary",
        ),
        (lambda c, loader, model: c["text_features"](""), "empty"),
        (lambda c, loader, model: c["char_classes"](""), "empty"),
        (lambda c, loader, model: c["shade_text"]("", []), "empty"),
        (lambda c, loader, model: c["shade_text"]("abc", [1, 2]), "one value per"),
        (
            lambda c, loader, model: c["pearson_r"](np.ones((5, 2)), np.arange(4)),
            "same text",
        ),
        (
            lambda c, loader, model: c["pearson_r"](np.ones((5, 2)), np.zeros(5)),
            "constant",
        ),
        (lambda c, loader, model: c["saturation"](np.zeros(5)), "shape"),
    ],
)
def test_bad_input_gets_a_clear_error(code, small, call, message):
    loader, model = small
    with pytest.raises(ValueError, match=message):
        call(code, loader, model)
