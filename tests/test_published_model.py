"""The published model (book/_static/model/): what scripts/export_model.py wrote, read
back with NumPy alone, and how chapters 5 and 6 download it (from a local server here).
The page's JavaScript generator is checked against the same NumPy equations in
tests/test_site_browser.py."""

import ast
import hashlib
import json
import re
import shutil

import export_model
import numpy as np
import pytest

import rnnbook.training
from rnnbook.data import DataLoader, fetch_corpus, read_text
from rnnbook.model import FusedCharLSTM
from rnnbook.sampling import exact_float32, load_published, main_model
from rnnbook.training import MAIN_RECIPE, held_out_windows

from book_tools import ROOT, serving

MODEL = ROOT / "book" / "_static" / "model"
BUDGET = 1_500_000  # bytes, manifest and weights together


@pytest.fixture(scope="module")
def loader():
    return DataLoader(read_text(fetch_corpus()), seed=0)


def chapter_4_window_metric():
    """The held-out window metric that chapter 4's stored run printed (3 decimals)."""
    nb = json.loads((ROOT / "book" / "04_training.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", ""))
            found = re.search(r"LSTM ([\d.]+), best n-gram", text)
            if found:
                return float(found.group(1))
    raise LookupError("chapter 4's stored outputs have no window metric")


def test_the_published_files_fit_the_budget_and_match_their_hash():
    manifest, _ = export_model.load(MODEL)  # raises on a sha256 mismatch
    size = sum(p.stat().st_size for p in MODEL.iterdir())
    assert size <= BUDGET, f"{size:,} bytes"
    assert manifest["dtype"] in ("float16", "float32")
    if manifest["dtype"] == "float16":  # chosen only if it costs under 0.001 nats
        held_out = manifest["held_out"]
        assert abs(held_out["float16"] - held_out["float32"]) < export_model.TOLERANCE


def test_numpy_gives_chapter_4s_held_out_window_metric(loader):
    manifest, weights = export_model.load(MODEL)
    recipe = MAIN_RECIPE
    assert manifest["fingerprint"] == recipe.fingerprint()
    assert "".join(manifest["vocabulary"]) == loader.decode(np.arange(loader.num_chars))
    windows = held_out_windows(loader, recipe.seq_length, count=4096)
    loss = export_model.window_loss(weights, windows)
    assert abs(loss - manifest["held_out"][manifest["dtype"]]) < 1e-6
    assert abs(loss - manifest["held_out"]["keras"]) < 1e-4  # Keras's evaluator
    # The published weights are one run of the recipe, chapter 4's output another:
    # the same seeds, but CPUs that round sums differently end 2,400 steps in slightly
    # different places (benchmarks/README.md records up to 0.017). Chapter 4
    # prints 3 decimals.
    assert abs(loss - chapter_4_window_metric()) <= 0.005


def test_numpy_equations_are_the_keras_models(loader):
    _, weights = export_model.load(MODEL)
    model = FusedCharLSTM(loader.num_chars, units=weights[1].shape[0])
    model(np.zeros([1, 1], dtype=np.int32))
    model.set_weights(weights)
    codes = loader.splits["val"][:64].reshape(2, 32)
    with exact_float32():
        keras_logits = model(codes).numpy()
    np.testing.assert_allclose(
        export_model.numpy_logits(weights, codes), keras_logits, rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    "chapter", ["05_sampling", "06_training_engineered", "07_inside_the_lstm"]
)
def test_the_chapters_pin_the_committed_files(chapter):
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    source = "".join("".join(c["source"]) for c in nb["cells"])
    for name in ("manifest.json", "weights.bin"):
        digest = hashlib.sha256((MODEL / name).read_bytes()).hexdigest()
        assert f'"{name}": "{digest}"' in source, f"{chapter}: re-pin {name}"


@pytest.fixture
def serve(tmp_path):
    """Serve a copy of the published files from 127.0.0.1; yields (url, folder)."""
    folder = tmp_path / "site"
    shutil.copytree(MODEL, folder)

    with serving(folder) as address:
        yield address, folder


def form_values(chapter):
    """The settings of a chapter's form cell ("Where the model comes from"), as the
    notebook has them: {name: value} of its plain assignments."""
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    form = next(
        "".join(c["source"])
        for c in nb["cells"]
        if "".join(c["source"]).startswith("# @title Where the model comes from")
    )
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(form).body
        if isinstance(node, ast.Assign)
    }


def published_into_model(loader, url, cache):
    form = form_values("05_sampling")
    cache.mkdir()  # get_file falls back to /tmp/.keras for a folder it cannot write
    assert form["WEIGHTS"] == "published", "the default"
    model = FusedCharLSTM(loader.num_chars, units=256)
    manifest = load_published(
        model, loader, MAIN_RECIPE, url, form["PUBLISHED_SHA256"], cache
    )
    return model, manifest


def test_the_published_weights_load_from_the_server(loader, serve, tmp_path):
    url, _ = serve
    model, manifest = published_into_model(loader, url, tmp_path / "cache")
    assert manifest is not None
    _, weights = export_model.load(MODEL)
    for got, want in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)


def falls_back_to_training(loader, url, folder, monkeypatch):
    """What chapters 5, 6 and 7 do with their form's settings when the published
    weights cannot be had: main_model trains the main recipe here, as chapter 4 does
    (cut to the suite's short schedule), in a checkpoint folder of the test's own.
    Returns the model and its curve."""
    form = form_values("05_sampling")
    (folder / "cache").mkdir(parents=True)
    monkeypatch.setattr(rnnbook.training, "CHECKPOINT_ROOT", folder / "checkpoints")
    windows = held_out_windows(loader, MAIN_RECIPE.seq_length, count=64)
    recipe = MAIN_RECIPE.for_this_run()  # as the chapters call it
    return main_model(
        loader, recipe, windows, form["WEIGHTS"], url, form["PUBLISHED_SHA256"],
        eval_every=10, prefix="fallback", cache_dir=folder / "cache",
    )  # fmt: skip


def differs_from_the_published(model):
    _, published = export_model.load(MODEL)
    return any(
        not np.array_equal(got, want)
        for got, want in zip(model.get_weights(), published, strict=True)
    )


def test_a_damaged_file_is_refused_and_the_chapter_trains(
    loader, serve, tmp_path, capsys, monkeypatch
):
    url, folder = serve
    data = bytearray((folder / "weights.bin").read_bytes())
    data[1000] ^= 0xFF  # one damaged byte
    (folder / "weights.bin").write_bytes(bytes(data))
    model, manifest = published_into_model(loader, url, tmp_path / "refused")
    assert manifest is None
    assert "could not be had" in capsys.readouterr().out
    model, curve = falls_back_to_training(loader, url, tmp_path, monkeypatch)
    assert "could not be had" in capsys.readouterr().out
    assert curve["step"][-1] == MAIN_RECIPE.for_this_run().steps  # trained, here
    # it learned: well below guessing uniformly (ln 57 = 4.04 nats/char, where an
    # untrained model starts); the loss between short evaluations need not fall
    assert curve["val_loss"][-1] < np.log(loader.num_chars) - 0.5
    assert differs_from_the_published(model)


def test_no_server_means_training(loader, serve, tmp_path, capsys, monkeypatch):
    url, _ = serve
    dead = re.sub(r":\d+/", ":9/", url)  # port 9 (discard): nothing listens there
    model, manifest = published_into_model(loader, dead, tmp_path / "refused")
    assert manifest is None
    assert "could not be had" in capsys.readouterr().out
    model, curve = falls_back_to_training(loader, dead, tmp_path, monkeypatch)
    assert curve["step"][-1] == MAIN_RECIPE.for_this_run().steps
    assert differs_from_the_published(model)


def test_the_export_scripts_check_passes_on_the_committed_files(capsys):
    assert export_model.main(["--check"]) == 0
    assert "float16, held-out loss" in capsys.readouterr().out
