#!/usr/bin/env python3
"""Side-by-side timings of the book's training steps and text generators.

Runs the code exactly as the chapters define it (their exported cells), on the same
batches:

python benchmarks/benchmark.py                 # everything (a few minutes on 2 cores)
python benchmarks/benchmark.py --batches 300   # a shorter objective comparison

Needs the corpus in Keras's cache (see the README). Prints Markdown tables; record them,
with the machine they came from, in benchmarks/README.md.
"""

import argparse
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from sync_exports import load_exported  # noqa: E402


def training_speed(book, loader, repeats):
    """ms per batch of 50 x 40: the source's eager step, compiled, compiled on the fused
    layer.
    """
    keras, tf = book["keras"], book["tf"]
    batches = [loader.get_batch(40, 50) for _ in range(repeats)]
    rows = []
    for name, model_class, compiled in [
        ("source: eager step", book["CharLSTM"], False),
        ("compiled step (tf.function)", book["CharLSTM"], True),
        ("compiled step, fused LSTM layer", book["FusedCharLSTM"], True),
    ]:
        keras.utils.set_random_seed(0)
        model = model_class(loader.num_chars)
        step = book["make_train_step"](
            model, keras.optimizers.Adam(1e-3), compiled=compiled
        )
        rows.append((name, book["ms_per_step"](step, batches)))
    print("\n| training step, batch 50 x 40 | ms/batch | speed-up vs source |")
    print("| --- | ---: | ---: |")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} | {rows[0][1] / ms:.1f}x |")
    del tf


def objectives(book, loader, batches):
    """Held-out loss after equal batch counts: last character or every position."""
    keras, np = book["keras"], book["np"]
    windows = book["held_out_windows"](loader, seq_length=40)
    print(
        f"\n| objective (source recipe, {batches} batches of 50 x 40) "
        "| held-out loss, nats/char |"
    )
    print("| --- | ---: |")
    for all_positions in (False, True):
        recipe = replace(
            book["SOURCE_RECIPE"], all_positions=all_positions, steps=batches
        )
        keras.utils.set_random_seed(0)
        loader.rng = np.random.default_rng(0)
        model = book["CharLSTM"](loader.num_chars)
        step = book["make_train_step"](
            model, book["make_optimizer"](recipe), all_positions
        )
        for _ in range(batches):
            step(*loader.get_batch(40, 50, all_targets=all_positions))
        loss = book["make_evaluator"](model, windows)()
        name = "every position" if all_positions else "last character (source)"
        print(f"| {name} | {loss:.3f} |")


def generation_speed(book, loader, length):
    """Characters per second: the source's re-feed of 40 characters, and stateful
    one-step generation. Speed does not depend on the weights, so an untrained model
    serves.
    """
    keras, time = book["keras"], book["time"]
    keras.utils.set_random_seed(0)
    model = book["CharLSTM"](loader.num_chars)
    stepper = book["make_stepper"](model)
    prompt = loader.decode(loader.splits["val"][:40])
    book["generate"](
        model, loader, prompt, 5, stepper=stepper
    )  # trace the compiled step
    rows = []
    for name, run, chars, samples in [
        (
            "source: re-feed 40 characters per new one",
            lambda n: book["generate_refeed"](model, loader, prompt, n, seed=0),
            length // 10,
            1,
        ),
        (
            "stateful, compiled one-step",
            lambda n: book["generate"](
                model, loader, prompt, n, seed=0, stepper=stepper
            ),
            length,
            1,
        ),
        (
            "stateful, 16 samples per batch",
            lambda n: book["generate"](
                model, loader, prompt, n, seed=0, num_samples=16, stepper=stepper
            ),
            length,
            16,
        ),
    ]:
        start = time.perf_counter()
        run(chars)
        rows.append((name, samples * chars / (time.perf_counter() - start)))
    print("\n| text generation | chars/s | speed-up vs source |")
    print("| --- | ---: | ---: |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / rows[0][1]:.0f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed batches per training step"
    )
    parser.add_argument(
        "--batches", type=int, default=1000, help="training batches per objective"
    )
    parser.add_argument(
        "--chars", type=int, default=2000, help="characters per stateful generator"
    )
    args = parser.parse_args(argv)
    book = load_exported("05_sampling")
    tf = book["tf"]
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}; "
        f"TensorFlow {tf.__version__}"
    )
    loader = book["DataLoader"](book["read_text"](book["fetch_corpus"]()), seed=0)
    training_speed(book, loader, args.repeats)
    generation_speed(book, loader, args.chars)
    objectives(book, loader, args.batches)


if __name__ == "__main__":
    main()
