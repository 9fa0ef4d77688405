#!/usr/bin/env python3
"""Why this recipe? The anchors' recipes trained side by side, for the same time.

Trains the book's recipe and the recipes of the three sources it measures itself
against (TensorFlow's text-generation tutorial, the keras.io Nietzsche example,
Karpathy's char-rnn), plus two variants of the book's recipe, each for the same
wall-clock budget on this machine, on the book's training split, each on the
fastest path it supports here. Every model is scored with the book's two metrics:
the held-out window loss (the last character after 64 characters of context, as
chapter 4's make_evaluator) and the streamed loss (the validation text read as one
stream, the state carried, as chapter 4's streamed_loss), in nats/char, bits/char
and perplexity, with the seed-to-seed spread.

python benchmarks/recipes.py                    # 6 recipes x 2 seeds x 240 s: about
                                                # an hour on 2 cores (idle machine),
                                                # into a new file in benchmarks/runs/
python benchmarks/recipes.py --update           # the same, into the committed
                                                # benchmarks/results/recipes.json
python benchmarks/recipes.py --recipes book char_rnn --seeds 0
python benchmarks/recipes.py --paths            # ms/step of tf.function vs XLA only
python benchmarks/recipes.py --smoke            # seconds: does it still run? (a test)

The recipes themselves (RECIPES, the networks, batches, steps, the timed training
and the scorers) are taught, folded, in chapter 6 (book/06_training_engineered.ipynb,
section 3), whose form re-runs them live; this script imports them from there
(rnnbook) and adds the runs at full length, the sources and the report.

Needs the corpus in Keras's cache (see the README). Writes the results (JSON) after
every recipe, into a new file (benchmarks/runs/recipes-DATE.json, or --out, which must
not exist yet), and prints a Markdown table for benchmarks/README.md. Only --update
writes over the committed, hash-pinned benchmarks/results/recipes.json, and only if
it is still the file this run read at its start.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
COMMITTED = (
    ROOT / "benchmarks" / "results" / "recipes.json"
)  # chapter 6 pins its sha256
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

# The one guard that every script writing a committed file goes through (scripts/).
sys.path.insert(0, str(ROOT / "scripts"))
# The book's code (pip install -e ., see the README), from the modules that define it:
from rnnbook.data import DataLoader, fetch_corpus, read_text  # noqa: E402
from rnnbook.engineering import (  # noqa: E402
    PROMPT,
    RECIPES,
    compare_recipe,
    measure_paths,
    recipe_config,
)
from rnnbook.recurrence import describe_devices  # noqa: E402
from rnnbook.training import MAIN_RECIPE  # noqa: E402

from notebook_io import GuardedFile  # noqa: E402

SOURCES = {
    "book": {
        "url": "book/04_training.ipynb (MAIN_RECIPE, make_train_step, "
        "make_optimizer, FusedCharLSTM)",
        "choices": [
            "the cosine schedule's length (MAIN_RECIPE.steps, 2,400) is replaced "
            "by the steps this recipe reaches in the budget, measured in a short "
            "calibration on this machine before the runs (schedule_steps)",
        ],
    },
    "tf_tutorial": {
        "url": "https://www.tensorflow.org/text/tutorials/text_generation "
        "(github.com/tensorflow/text: docs/tutorials/text_generation.ipynb)",
        "verified": "seq_length 100, chunks of 101 cut consecutively "
        "(batch(seq_length+1, drop_remainder=True)), shuffle(BUFFER_SIZE=10000), "
        "BATCH_SIZE 64 (drop_remainder), Embedding(vocab, 256), GRU(1024, "
        "return_sequences=True), Dense(vocab) logits, sparse cross-entropy from "
        "logits at every position, model.compile(optimizer='adam') (lr 1e-3)",
        "choices": [
            "the book's 57-character vocabulary (the tutorial's StringLookup adds "
            "an [UNK] id) and the book's training split, not the whole text",
            "the training split holds 5,354 chunks, fewer than the buffer: the "
            "shuffle is a full reshuffle each pass (tf.data, seeded)",
        ],
    },
    "keras_io": {
        "url": "https://keras.io/examples/generative/lstm_character_level_text_"
        "generation/ (github.com/keras-team/keras-io: examples/generative/"
        "lstm_character_level_text_generation.py)",
        "verified": "maxlen 40, step 3, one-hot input, LSTM(128), Dense(softmax), "
        "RMSprop(learning_rate=0.01), categorical cross-entropy on the next "
        "character, batch_size 128, model.fit (shuffled each epoch); samples by "
        "re-feeding the last 40 characters",
        "choices": [
            "logits and a cross-entropy from logits instead of a softmax layer and "
            "categorical_crossentropy on probabilities (the same function, stabler)",
            "windows from the book's training split, a new permutation each pass; "
            "the last partial batch of a pass is dropped (one shape, for XLA)",
            "scored, like every recipe, after 64 characters of context, although "
            "it trains on 40",
        ],
    },
    "char_rnn": {
        "url": "https://github.com/karpathy/char-rnn/blob/master/train.lua "
        "(and util/CharSplitLMMinibatchLoader.lua, model/LSTM.lua)",
        "verified": "rnn_size 128, num_layers 2, model lstm, one-hot input, "
        "seq_length 50, batch_size 50, dropout 0, learning_rate 2e-3, "
        "learning_rate_decay 0.97 at the end of each epoch once epoch >= "
        "learning_rate_decay_after (10), RMSprop decay_rate (alpha) 0.95, "
        "grad_clip 5 applied element-wise (grad_params:clamp) to the gradient of "
        "the loss summed over the 50 steps (the division by seq_length is left "
        "out), init U(-0.08, 0.08) with forget-gate biases 1, the batch_size "
        "streams read in order with the final state carried to the next batch",
        "choices": [
            "gradient clipping as char-rnn: the gradient of the mean loss x 50 "
            "(grad_scale), each element clipped to [-5, 5] (tf.clip_by_value); "
            "RMSprop is insensitive to that scale, the clip is not",
            "Keras RMSprop(rho=0.95, epsilon=1e-16): Keras adds epsilon under the "
            "square root, torch's optim.rmsprop adds 1e-8 after it",
            "init: Keras's LSTM has one bias where char-rnn has two (i2h, h2h): "
            "U(-0.08, 0.08) with the forget gate's set to exactly 1",
            "batches: the book's consecutive_batches on the book's training split "
            "(char-rnn splits the 50 streams of the whole text 95/5); an epoch is "
            "a pass over the training split; the state is never reset, as "
            "char-rnn never resets init_state_global",
        ],
    },
    "book_gru": {
        "url": "book/04_training.ipynb (MAIN_RECIPE), with keras.layers.GRU",
        "choices": [
            "GRU units chosen so that the parameter count is closest to the "
            "book's LSTM 256 (one-hot input, Dense output); Keras's GRU with "
            "reset_after=True (the cuDNN-compatible default)",
            "the cosine schedule's length calibrated like the book's",
        ],
    },
    "book_2layer_dropout": {
        "url": "book/04_training.ipynb (MAIN_RECIPE), with a second LSTM layer",
        "choices": [
            "2 x LSTM 256 with Dropout(0.2) on the first layer's outputs; no "
            "dropout on the output layer's input; about 2.6x the parameters",
            "the cosine schedule's length calibrated like the book's",
        ],
    },
}


# --------------------------------------------------------------- the report
def machine():
    """CPU model, cores, GPUs and versions, for the results file."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "devices": describe_devices(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def markdown(results):
    """The table for benchmarks/README.md, and the samples of the first seed."""
    lines = [
        "| recipe | parameters | path | steps | ms/step | window: nats (bits, ppl) "
        "| seed spread | stream: nats (bits, ppl) | seed spread |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results["recipes"].items():
        s = summary_cells(r["summary"], len(r["runs"]))
        lines.append(
            f"| {name} | {r['parameters']:,} | {r['path']} | "
            f"{r['summary']['steps']['mean']:,.0f} | "
            f"{r['summary']['ms_per_step']['mean']:.1f} | {s} |"
        )
    lines += ["", "| recipe | sample at T = 0.5 (seed 0 run) |", "| --- | --- |"]
    for name, r in results["recipes"].items():
        text = r["runs"][0]["sample"].replace("\n", "↵").replace("|", "\\|")
        lines.append(f"| {name} | {PROMPT}**{text}** |")
    return "\n".join(lines)


def summary_cells(summary, seeds):
    """Mean nats (bits, perplexity) | spread, for both metrics."""
    cells = []
    for metric in ("window", "streamed"):
        nats = summary[f"{metric}_nats"]
        spread = f"{nats['spread']:.3f}" if seeds > 1 else "one seed"
        cells.append(
            f"{nats['mean']:.3f} ({summary[f'{metric}_bits']:.3f}, "
            f"{summary[f'{metric}_perplexity']:.2f}) | {spread}"
        )
    return " | ".join(cells)


def paths_table(names, loader, args):
    """--paths: the ms/step of every recipe on each path, as choose_path times them."""
    print("| recipe | tf.function: ms/step | XLA: ms/step |\n| --- | ---: | ---: |")
    for name in names:
        ms = measure_paths(
            name, loader, (False, True), *((0.0, 1) if args.smoke else (3.0, 3))
        )
        print(f"| {name} | {ms[False]:.1f} | {ms[True]:.1f} |", flush=True)


# ---------------------------------------------------------------------- main
def parse(argv):
    """The command line, with the defaults that depend on --smoke filled in."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, help="training seconds (240)")
    parser.add_argument("--eval-every", type=float, help="seconds between scores (30)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES))
    parser.add_argument("--out", help="a new results file (default: in runs/)")
    parser.add_argument(
        "--update", action="store_true", help=f"write over {COMMITTED.name} in results/"
    )
    parser.add_argument(
        "--path", default="auto", choices=["auto", "XLA", "tf.function"],
        help="on a CPU: the faster, timed before each recipe (auto), or this one",
    )  # fmt: skip
    parser.add_argument("--paths", action="store_true", help="time the paths only")
    parser.add_argument("--smoke", action="store_true", help="a tiny run of all")
    args = parser.parse_args(argv)
    args.recipes = args.recipes or list(RECIPES)
    smoke = args.smoke
    if smoke and args.path == "auto":
        args.path = "tf.function"  # compiles fastest; a smoke run times nothing
    args.budget = args.budget or (0.5 if smoke else 240.0)
    args.eval_every = args.eval_every or (args.budget / 2 if smoke else 30.0)
    if args.update and args.out:
        parser.error("--update writes the committed file: give --out or --update")
    if args.update:
        args.out = str(COMMITTED)
    elif args.out is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        folder = Path(tempfile.mkdtemp()) if smoke else ROOT / "benchmarks" / "runs"
        args.out = str(folder / f"recipes-{stamp}.json")
    elif Path(args.out).exists():
        parser.error(f"{args.out} exists: give a new file, or --update")
    return args


def scoring_config(loader, args):
    """Chapter 6's recipe_config: the held-out windows, the stream and the sample
    length (tiny when smoke)."""
    config = recipe_config(loader, args.budget, args.eval_every)
    if args.smoke:
        config = dict(
            config, windows=config["windows"][:64], stream=config["stream"][:300],
            length=20, subset=16,
        )  # fmt: skip
    return config


def main(argv=None):
    """Run every recipe and seed asked for; returns the results (also in --out)."""
    args = parse(argv)
    tf.get_logger().setLevel("ERROR")  # no notices that many steps are traced
    loader = DataLoader(read_text(fetch_corpus()), seed=0)
    if args.paths:
        paths_table(args.recipes, loader, args)
        return None
    config = scoring_config(loader, args)
    writer = GuardedFile(args.out)  # read now: never written over if edited later
    results = {
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "budget_s": args.budget,
        "eval_every_s": args.eval_every,
        "seeds": args.seeds,
        "smoke": args.smoke,
        "window_metric": "last character after 64, 4,096 held-out windows"
        f" ({len(config['windows'])} here), {config['subset']} during training",
        "streamed_metric": f"{len(config['stream']):,} validation characters",
        "prompt": PROMPT,
        "recipes": {},
    }
    for name in args.recipes:
        results["recipes"][name] = run_all_seeds(name, loader, args, config)
        writer.write(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(markdown(results))
    print(f"\nResults: {args.out}")
    return results


def run_all_seeds(name, loader, args, config):
    """Every seed of one recipe (chapter 6's compare_recipe), with its sources."""
    timing = (0.0, 1) if args.smoke else (3.0, 3)
    entry = compare_recipe(name, loader, config, args.seeds, args.path, timing)
    entry = {"about": entry["about"], "source": SOURCES[name], **entry}
    if name == "book_gru":
        print(
            f"book_gru: GRU {entry['units'][0]} units, {entry['parameters']:,} "
            f"parameters; the book's LSTM {MAIN_RECIPE.units}: "
            f"{entry['book_lstm_parameters']:,}"
        )
    return entry


if __name__ == "__main__":
    main()
