"""Part I as a course: each chapter's main thread first, its checks and plumbing in a
closing "Under the hood"; the numbers that each chapter must print; and one trained
model, whose held-out loss chapters 4, 5 and 7 print alike."""

import re

import nbformat
import pytest

import translations
from book_tools import ROOT

PART_ONE = translations.part_one()
AFTER_UNDER_THE_HOOD = {"Exercises", "Further reading"}


def headings(nb, level=2):
    marks = "#" * level
    return [
        m.group(1).strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for m in re.finditer(rf"^{marks} (.+)$", cell.source, re.M)
    ]


def outputs(nb):
    """[(cell index, the cell's printed text)] of a stored notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        text = "".join(
            out.get("text", "") or out.get("data", {}).get("text/plain", "")
            for out in cell.get("outputs", [])
        )
        if text:
            found.append((i, text))
    return found


def first_output(nb, pattern):
    return next(
        ((i, m) for i, text in outputs(nb) if (m := re.search(pattern, text, re.M))),
        (None, None),
    )


@pytest.mark.parametrize("path", PART_ONE, ids=lambda p: p.stem)
def test_each_chapter_ends_with_under_the_hood(path):
    found = headings(nbformat.read(path, as_version=4))
    assert found.count("Under the hood") == 1, f"{path.name}: {found}"
    after = found[found.index("Under the hood") + 1 :]
    assert set(after) <= AFTER_UNDER_THE_HOOD, f"{path.name}: after it, {after}"


def test_chapter_1_checks_its_numpy_gradients_against_gradient_tape():
    nb = nbformat.read(ROOT / "book" / "01_how_rnns_work.ipynb", as_version=4)
    checks = [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and "nbval-check-output" in c.metadata.get("tags", [])
        and "GradientTape" in c.source
        and "assert_allclose" in c.source
        and any(name in c.source for name in ("dU", "grad_U", "grads"))
    ]
    assert checks, "no checked cell compares the BPTT gradients with GradientTape"


def test_chapter_4_estimates_its_finish_before_the_main_run():
    nb = nbformat.read(ROOT / "book" / "04_training.ipynb", as_version=4)
    estimate, _ = first_output(nb, r"^estimated finish: \d\d:\d\d")
    run = next(i for i, c in enumerate(nb.cells) if '"ch4-main"' in c.get("source", ""))
    assert estimate is not None and estimate < run


def test_chapter_4_prints_the_lead_over_the_ngram_with_an_interval():
    nb = nbformat.read(ROOT / "book" / "04_training.ipynb", as_version=4)
    _, lead = first_output(nb, r"lead over the \d+-gram: (-?[\d.]+) nats/char")
    _, interval = first_output(nb, r"^95% interval: (-?[\d.]+) to (-?[\d.]+)")
    assert lead and interval
    low, high = map(float, interval.groups())
    assert low <= float(lead.group(1)) <= high


def test_chapter_5_prints_both_generation_rates():
    nb = nbformat.read(ROOT / "book" / "05_sampling.ipynb", as_version=4)
    for name in ("re-feed", "stateful"):
        _, rate = first_output(nb, rf"^{name} .*?(\d+) characters/s")
        assert rate and int(rate.group(1)) > 0, name


def held_out_printed(chapter, pattern):
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    _, found = first_output(nb, pattern)
    assert found, f"{chapter} prints no held-out loss for the main model"
    return found.group(1)


def test_one_trained_model_across_the_book():
    """Chapter 4's stored run is the published model: chapters 5 and 7, which load
    it, print the held-out loss that chapter 4 printed, and so does
    benchmarks/README.md."""
    chapter_4 = held_out_printed("04_training", r"^LSTM ([\d.]+), best n-gram")
    for chapter in ("05_sampling", "07_inside_the_lstm"):
        loaded = held_out_printed(chapter, r"^held-out loss: ([\d.]+) nats/char")
        assert loaded == chapter_4, f"{chapter}: {loaded}, chapter 4: {chapter_4}"
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    keras = re.search(
        r"\| Keras, float32 \(chapter 4's evaluator\) \| ([\d.]+) \|", readme
    )
    assert keras and f"{float(keras.group(1)):.3f}" == chapter_4
