"""The anchors' recipes at equal time: benchmarks/recipes.py's smoke run, and the code
it imports from chapter 6 (each recipe's network and step, its scorers against chapter
4's (no timing or loss
level is asserted: the numbers of a smoke run mean nothing)."""

import ast
import importlib.util
import json
import math

import numpy as np
import pytest

import rnnbook.engineering
from rnnbook.data import DataLoader, fetch_corpus, read_text
from rnnbook.engineering import (
    RecipeRun,
    gru_params,
    gru_units,
    lstm_params,
    recipe_results,
    stateful,
    streamed_loss,
    summarize,
    window_loss,
)
from rnnbook.training import held_out_windows, make_evaluator, to_char_lstm

from book_tools import ROOT

NAMES = [
    "book", "tf_tutorial", "keras_io", "char_rnn", "book_gru", "book_2layer_dropout"
]  # fmt: skip


@pytest.fixture(scope="module")
def recipes():
    """The script, imported as a module."""
    path = ROOT / "benchmarks" / "recipes.py"
    spec = importlib.util.spec_from_file_location("recipes_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def loader():
    """The book's DataLoader, which every recipe reads."""
    return DataLoader(read_text(fetch_corpus()), seed=0)


def test_the_table_names_every_recipe_and_its_source(recipes):
    assert list(recipes.RECIPES) == NAMES
    for name in NAMES:
        assert recipes.SOURCES[name]["url"] and recipes.RECIPES[name].about


def test_smoke_run_of_every_recipe(recipes, tmp_path, capsys):
    out = tmp_path / "recipes.json"
    recipes.main(["--smoke", "--seeds", "3", "--out", str(out)])  # one seed: time
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert list(saved["recipes"]) == NAMES
    assert saved["machine"]["cores"] and saved["machine"]["tensorflow"]
    assert saved["budget_s"] > 0 and saved["seeds"] == [3]
    for entry in saved["recipes"].values():
        assert entry["parameters"] > 0 and len(entry["runs"]) == 1
        for run in entry["runs"]:
            assert run["seed"] == 3 and run["steps"] >= 2 and run["curve"]
            assert run["ms_per_step"] > 0 and run["curve"][-1]["window_loss"] > 0
            for metric in ("window", "streamed"):
                nats = run[metric]["nats"]
                assert math.isfinite(nats)
                assert run[metric]["bits"] == pytest.approx(nats / math.log(2))
                assert run[metric]["perplexity"] == pytest.approx(math.exp(nats))
            assert len(run["sample"]) == 20
        assert entry["summary"]["window_nats"]["spread"] >= 0
    gru = saved["recipes"]["book_gru"]
    assert gru["book_lstm_parameters"] == saved["recipes"]["book"]["parameters"]
    assert abs(gru["parameters"] / gru["book_lstm_parameters"] - 1) < 0.01
    printed = capsys.readouterr().out
    assert "| recipe | parameters | path |" in printed
    assert "| book_2layer_dropout |" in printed


@pytest.mark.parametrize("name", NAMES)
def test_each_recipe_builds_and_takes_a_step(loader, name):
    run = RecipeRun(name, loader, seed=0, jit_compile=False)
    before = run.model.get_weights()
    loss = run.step()
    assert abs(loss - math.log(loader.num_chars)) < 0.5  # about uniform at first
    after = run.model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    if run.anchor.stateful:  # char-rnn: the end state is kept for the next batch
        assert [tuple(s.shape) for s in run.state] == [(50, 128)] * 4
        assert all(np.abs(s.numpy()).max() > 0 for s in run.state)
    else:
        assert run.state is None


def test_both_paths_compile_and_are_timed(recipes, loader):
    ms = recipes.measure_paths("keras_io", loader, (False, True), 0.0, 1)
    assert set(ms) == {False, True} and min(ms.values()) > 0


def test_window_and_stream_scorers_match_chapter_4(loader):
    """The scorers that serve every recipe give chapter 4's numbers on its model."""
    run = RecipeRun("book", loader, seed=0, jit_compile=False)
    for _ in range(3):  # weights that are not the initial ones
        run.step()
    windows = held_out_windows(loader, 64, count=4096)[:1024]
    chapter_4 = make_evaluator(run.model, windows)()
    mine = window_loss(run.model, windows)
    assert mine == pytest.approx(chapter_4, abs=1e-5)
    stream = loader.splits["val"][:401]
    chapter_4 = streamed_loss(to_char_lstm(run.model), stream)
    mine = streamed_loss(stateful(run.model), stream, 150)
    assert mine == pytest.approx(chapter_4, abs=1e-5)


def test_char_rnn_decays_its_rate_after_ten_passes(loader):
    """train.lua: x0.97 at the end of each epoch from epoch 10 on, not before."""
    run = RecipeRun("char_rnn", loader, seed=0, jit_compile=False)
    for passes, rate in ((9, 2e-3), (10, 2e-3 * 0.97), (11, 2e-3 * 0.97**2)):
        run.steps = passes * run.per_pass - 1
        run.step()
        assert float(run.optimizer.learning_rate) == pytest.approx(rate)


def test_summary_gives_the_mean_and_spread_over_seeds():
    runs = [
        {"window": {"nats": w}, "streamed": {"nats": s}, "steps": n, "ms_per_step": m}
        for w, s, n, m in ((1.5, 1.4, 100, 10.0), (1.6, 1.2, 110, 12.0))
    ]
    summary = summarize(runs)
    assert summary["window_nats"] == pytest.approx({"mean": 1.55, "spread": 0.1})
    assert summary["streamed_nats"] == pytest.approx({"mean": 1.3, "spread": 0.2})
    assert summary["steps"] == pytest.approx({"mean": 105, "spread": 10})
    assert summary["window_bits"] == pytest.approx(1.55 / math.log(2))
    assert summary["streamed_perplexity"] == pytest.approx(math.exp(1.3))


def test_gru_width_matches_the_lstm_parameters():
    units = gru_units(57)
    lstm = lstm_params(57, 256)
    assert abs(gru_params(57, units) - lstm) <= abs(gru_params(57, units + 1) - lstm)
    assert abs(gru_params(57, units) - lstm) <= abs(gru_params(57, units - 1) - lstm)


RESULTS = ROOT / "benchmarks" / "results" / "recipes.json"


def chapter_6_form():
    """The values of chapter 6's RUN_RECIPES form cell."""
    nb = json.loads((ROOT / "book" / "06_training_engineered.ipynb").read_text())
    cell = next(
        "".join(c["source"])
        for c in nb["cells"]
        if "".join(c["source"]).startswith("# @title The comparison")
    )
    ns = {"PUBLISHED_URL": "https://example.org/r/main/book/_static/model/"}
    for node in ast.parse(cell).body:  # constants, and one str.replace of PUBLISHED_URL
        value = node.value
        if isinstance(value, ast.Call):  # PUBLISHED_URL.replace("...", "...")
            base = ns[value.func.value.id]
            ns[node.targets[0].id] = base.replace(*map(ast.literal_eval, value.args))
        else:
            ns[node.targets[0].id] = ast.literal_eval(value)
    return ns


def test_chapter_6_reads_the_committed_results_by_their_sha256():
    import hashlib

    form = chapter_6_form()
    assert form["RUN_RECIPES"] is False  # off by default: the page reads the file
    assert form["RESULTS_SHA256"] == hashlib.sha256(RESULTS.read_bytes()).hexdigest()
    assert form["RESULTS_URL"] == (
        "https://example.org/r/main/benchmarks/results/recipes.json"
    )


def test_committed_results_hold_every_recipe_at_full_length():
    saved = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert not saved["smoke"] and saved["budget_s"] >= 240
    assert list(saved["recipes"]) == NAMES and len(saved["seeds"]) >= 2
    for entry in saved["recipes"].values():
        assert [run["seed"] for run in entry["runs"]] == saved["seeds"]
        again = summarize(entry["runs"])  # the summary, recomputed
        assert set(entry["summary"]) == set(again)
        for key, value in entry["summary"].items():
            assert value == pytest.approx(again[key]), key


def test_readme_table_matches_the_committed_results(recipes):
    saved = json.loads(RESULTS.read_text(encoding="utf-8"))
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for line in recipes.markdown(saved).splitlines():
        assert line in readme, f"benchmarks/README.md lacks: {line}"


def test_recipe_results_reads_the_file_or_runs_live(tmp_path, monkeypatch):
    import hashlib

    url, sha = RESULTS.as_uri(), hashlib.sha256(RESULTS.read_bytes()).hexdigest()
    read = recipe_results(False, 1, url, sha, cache_dir=str(tmp_path))
    assert read == json.loads(RESULTS.read_text(encoding="utf-8"))
    # recipe_results, in rnnbook.engineering, looks live_comparison up when called
    monkeypatch.setattr(
        rnnbook.engineering, "live_comparison", lambda seconds: {"live": seconds}
    )
    damaged = recipe_results(False, 7, url, "0" * 64, str(tmp_path / "x"))
    assert damaged == {"live": 7}  # a file that fails its sha256: run live
    assert recipe_results(True, 3, url, sha) == {"live": 3}
