#!/usr/bin/env python3
"""Chapter 7's line-position analysis, repeated on chapter 6's carried-state variant.

Chapter 6 trains the main recipe a second way, on consecutive windows with the state
carried from batch to batch, and keeps no checkpoint of it. Training it takes 4 to
7 minutes on 2 cores, which does not fit in chapter 7's time budget, so this script
trains it (exactly as chapter 6 does) and runs chapter 7's line-counter analysis
(line_counter: the best unit against its shift null, the probe, and P(newline) at word
ends by the line's fill) on both models and on an untrained LSTM of the same shape,
with the chapters' own exported code:

python benchmarks/carried_state.py          # 4 to 10 minutes; the main model is
                                            # chapter 4's run from book/checkpoints
                                            # if verified, else the published weights
python benchmarks/carried_state.py --update # the same, into the committed results
python benchmarks/carried_state.py --smoke  # seconds: does it still run? (a test)

Writes the results (JSON, with the machine and the date) to a new file in
benchmarks/runs/, or with --update to the committed
benchmarks/results/carried_state.json, whose two tables chapter 7 quotes (a test
checks the page against the file), and prints them as Markdown.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "benchmarks" / "results" / "carried_state.json"
# Chapter 4, run in Jupyter from book/, keeps its finished run in book/checkpoints.
os.environ.setdefault("RNN_BOOK_CHECKPOINTS", str(ROOT / "book" / "checkpoints"))
FIRST = 100  # chapter 7 predicts text[t] from t = 100 on (its `targets`)
import keras  # noqa: E402
import numpy as np  # noqa: E402

# The one guard that every script writing a committed file goes through (scripts/).
sys.path.insert(0, str(ROOT / "scripts"))
# The book's code (pip install -e ., see the README), from the modules that define it:
import rnnbook.training  # noqa: E402
from rnnbook.data import DataLoader, fetch_corpus, read_text  # noqa: E402
from rnnbook.engineering import consecutive_batches, make_stateful_step  # noqa: E402
from rnnbook.inside import (  # noqa: E402
    char_classes,
    line_counter,
    make_intervention,
    make_recorder,
    newline_by_fill,
)
from rnnbook.model import CharLSTM  # noqa: E402
from rnnbook.sampling import main_model  # noqa: E402
from rnnbook.training import (  # noqa: E402
    MAIN_RECIPE,
    held_out_windows,
    make_optimizer,
    to_char_lstm,
)

from notebook_io import GuardedFile  # noqa: E402


def train_carried(loader, recipe):
    """Chapter 6's carried-state run: consecutive windows, the state carried."""
    keras.utils.set_random_seed(recipe.seed)
    carried = CharLSTM(loader.num_chars, units=recipe.units)
    step = make_stateful_step(carried, make_optimizer(recipe))
    batches = consecutive_batches(
        loader.splits["train"], recipe.batch_size, recipe.seq_length
    )
    progress = keras.utils.Progbar(recipe.steps, interval=5.0)
    for n in range(1, recipe.steps + 1):
        X, y, new_pass = next(batches)
        if new_pass:
            state = carried.initial_state(recipe.batch_size)
        loss, state = step(X, y, state)
        progress.update(n, [("loss", float(loss))])
    return carried


def train_main(loader, recipe, windows):
    """Chapter 4's main model, from main_model, the one place that decides: a
    verified finished run if one is here, else the published weights (the committed
    book/_static/model/, exported from that run), else trained as chapter 4 does."""
    keras.utils.set_random_seed(recipe.seed)
    loader.rng = np.random.default_rng(recipe.seed)  # as chapter 4 does
    model_files = ROOT / "book" / "_static" / "model"
    hashes = {
        name: hashlib.sha256((model_files / name).read_bytes()).hexdigest()
        for name in ("manifest.json", "weights.bin")
    }
    with tempfile.TemporaryDirectory() as cache:
        trained, _ = main_model(
            loader, recipe, windows, "published", model_files.as_uri() + "/",
            hashes, prefix="carried-main", cache_dir=cache,
        )  # fmt: skip
    return to_char_lstm(trained)


def line_position(model, loader, text, shifts, part_chars, ablate=True):
    """Chapter 7's line-position numbers for one model (its line_counter, and the
    single-unit ablation on newlines unless ablate=False), as a dict, and the
    P(newline) rows at word ends by the line's fill."""
    edges = [0, 50, 60, 65, 70, 75, 200]  # chapter 7's bins for the corpus
    found = line_counter(model, loader, text, edges, shifts=shifts)
    inside = make_recorder(model)(loader, text)
    newlines = newline_by_fill(inside["logits"], loader, text, edges, first=FIRST)
    row = {
        "raw c range": f"{inside['c'].min():.0f} to {inside['c'].max():.0f}",
        "share of tanh(c) within 0.001 of +-1": (
            f"{(np.abs(np.tanh(inside['c'])) > 0.999).mean():.0%}"
        ),
        "line position: best unit, r": f"{found['unit']}, {found['r']:+.2f}",
        "its null (largest of the shifts)": f"{found['null'].max():.3f}",
        "line position: probe R^2 (95%)": "{:+.2f} ({:+.2f} to {:+.2f})".format(
            *found["probe"]
        ),
    }
    if ablate:
        part = text[:part_chars]
        one_each = np.r_[np.eye(model.units), np.zeros((1, model.units))]
        mean_h = inside["h"].mean(axis=0)
        ablated = make_intervention(model, one_each, mean_h)(loader, part)
        newline = char_classes(part)[1:] == "newline"
        delta = ablated[newline, :-1].mean(axis=0) - ablated[newline, -1].mean()
        row["newline loss, intact"] = f"{ablated[newline, -1].mean():.3f}"
        row["one unit held: median, largest change (no interval)"] = (
            f"{np.median(delta):+.4f}, {delta.max():+.3f}"
        )
    else:
        row["newline loss, intact"] = row[
            "one unit held: median, largest change (no interval)"
        ] = "-"
    return row, newlines


def untrained_lstm(loader, recipe):
    """An LSTM of the same shape with its random initial weights, as chapter 7's."""
    keras.utils.set_random_seed(0)
    untrained = CharLSTM(loader.num_chars, units=recipe.units)
    untrained(np.zeros([1, 1], dtype=np.int32))
    return untrained


def markdown(results):
    """The two tables that chapter 7 quotes, as Markdown, from the results."""
    names = list(results["models"])
    first = results["models"][names[0]]
    lines = [
        "| | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for row in first["row"]:
        cells = " | ".join(results["models"][n]["row"][row] for n in names)
        lines.append(f"| {row} | {cells} |")
    lines += ["", "| line so far | word ends | newlines | " + " | ".join(names) + " |"]
    lines.append("| --- | ---: | ---: |" + " ---: |" * len(names))
    for k, (span, count, share, _) in enumerate(first["newlines"]):
        p = " | ".join(f"{results['models'][n]['newlines'][k][3]:.1%}" for n in names)
        lines.append(f"| {span} | {count:,} | {share:.1%} | {p} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds")
    parser.add_argument("--update", action="store_true", help=f"write {COMMITTED}")
    parser.add_argument("--out", type=Path, help="a new results file")
    args = parser.parse_args(argv)
    stamp = datetime.now(timezone.utc)
    if args.update:
        out = COMMITTED
    elif args.out:
        if args.out.exists():
            parser.error(f"{args.out} exists: give a new file, or --update")
        out = args.out
    else:
        folder = (
            Path(tempfile.mkdtemp()) if args.smoke else ROOT / "benchmarks" / "runs"
        )
        out = folder / f"carried_state-{stamp:%Y%m%d-%H%M%S}.json"
    results_file = GuardedFile(out)  # read now: never written over if edited later
    recipe = MAIN_RECIPE
    if args.smoke:
        recipe = replace(recipe, steps=3, units=16, batch_size=4)
        # A smoke run's tiny models train into a folder of their own, never into
        # book/checkpoints, where a reader's chapter 4 run lives.
        rnnbook.training.CHECKPOINT_ROOT = Path(tempfile.mkdtemp())
    loader = DataLoader(read_text(fetch_corpus()), seed=recipe.seed)
    text = loader.decode(loader.splits["val"])
    shifts, part_chars, count = 200, 6_000, 4096
    if args.smoke:
        text, shifts, part_chars, count = text[:800], 5, 200, 16
    windows = held_out_windows(loader, recipe.seq_length, count=count)
    models = {
        "random windows, zero state (main)": train_main(loader, recipe, windows),
        "consecutive windows, state carried": train_carried(loader, recipe),
        "untrained (same shape)": untrained_lstm(loader, recipe),
    }
    results = {
        "date": stamp.isoformat(timespec="seconds"),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "tensorflow": tf_version(),
        },
        "smoke": args.smoke,
        "text_chars": len(text),
        "shifts": shifts,
        "ablated_chars": part_chars,
        "newlines_from": FIRST,
        "models": {},
    }
    for name, model in models.items():
        row, newlines = line_position(
            model, loader, text, shifts, part_chars, ablate="untrained" not in name
        )
        rows = [
            [span, int(n), float(share), float(p)] for span, n, share, p in newlines
        ]
        results["models"][name] = {"row": row, "newlines": rows}
    results_file.write(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"\nChapter 7's analysis, {len(text):,} held-out characters, "
          f"{shifts} shifts, ablations on the first {part_chars:,}:\n")  # fmt: skip
    print(markdown(results))
    print(f"\nResults: {out}")
    return results


def tf_version():
    import tensorflow as tf

    return tf.__version__


if __name__ == "__main__":
    main()
