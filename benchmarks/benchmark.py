#!/usr/bin/env python3
"""Side-by-side timings of the book's training steps and text generators.

Runs the code exactly as the chapters define it (their exported cells), on the same
batches:

python benchmarks/benchmark.py                 # all but the appendix (minutes, 2 cores)
python benchmarks/benchmark.py --batches 300   # a shorter objective comparison
python benchmarks/benchmark.py --distributed   # only the appendix's tf.distribute runs
python benchmarks/benchmark.py --seeds 0 1     # only chapter 6's seed spread (long)
python benchmarks/benchmark.py --smoke         # seconds: does it still run? (CI's test)

Needs the corpus in Keras's cache (see the README). Prints Markdown tables; record them,
with the machine they came from, in benchmarks/README.md.
"""

import argparse
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

# The book's code (pip install -e ., see the README), from the modules that define it:
from rnnbook.data import DataLoader, fetch_corpus, read_text  # noqa: E402
from rnnbook.distributed import (  # noqa: E402
    chief_ms_per_step,
    prepare_job,
    split_cpu,
    time_mirrored,
    time_one_device,
    window_starts,
)
from rnnbook.engineering import (  # noqa: E402
    PATHS,
    SHAPES,
    bf16_plan,
    consecutive_batches,
    make_stateful_step,
    streamed_loss,
    time_paths,
)
from rnnbook.model import CharLSTM, FusedCharLSTM  # noqa: E402
from rnnbook.sampling import generate, generate_refeed, make_stepper  # noqa: E402
from rnnbook.training import (  # noqa: E402
    MAIN_RECIPE,
    SOURCE_RECIPE,
    TRAIN_WITH_XLA,
    held_out_windows,
    make_evaluator,
    make_optimizer,
    make_train_step,
    to_char_lstm,
)

# --smoke: one path of each kind, one shape, a handful of steps; its numbers mean
# nothing, it only shows that the script still runs against the chapters' code.
SMOKE_PATHS = ("loop, tf.function", "fused, tf.function")


def training_speed(loader, repeats, smoke=False):
    """First call (trace + compile) and ms per step of every path in chapter 6, at the
    source's batch and the main recipe's; mixed_bfloat16 where the device has bf16."""
    paths, shapes = PATHS, SHAPES
    if smoke:
        paths = {name: paths[name] for name in SMOKE_PATHS}
        shapes = dict(list(shapes.items())[:1])
    times = {
        shape: time_paths(loader, paths, args, repeats, rounds=1 if smoke else 3)
        for shape, args in shapes.items()
    }
    # bfloat16 as chapter 6 measures it (bf16_plan): float32 and mixed_bfloat16 on the
    # fused layer without cuDNN, whose kernels take no bfloat16; nothing where the
    # device has no bfloat16 arithmetic.
    bf16_paths, why = ({}, "smoke run") if smoke else bf16_plan()
    print(f"bfloat16: {why}")
    for shape, args in shapes.items() if bf16_paths else []:
        times[shape].update(time_paths(loader, bf16_paths, args, repeats))
    shapes = list(times)
    print("\n| training step | " + " | ".join(f"{s}: ms/step" for s in shapes), end="")
    print(" | " + " | ".join(f"{s}: first call, s" for s in shapes) + " |")
    print("| --- |" + " ---: |" * (2 * len(shapes)))
    for name in times[shapes[0]]:
        ms = " | ".join(f"{times[s][name][1]:.1f}" for s in shapes)
        first = " | ".join(f"{times[s][name][0]:.1f}" for s in shapes)
        print(f"| {name} | {ms} | {first} |")


def objectives(loader, batches):
    """Held-out loss after equal batch counts: last character or every position."""
    windows = held_out_windows(loader, seq_length=40)
    print(
        f"\n| objective (source recipe, {batches} batches of 50 x 40) "
        "| held-out loss, nats/char |"
    )
    print("| --- | ---: |")
    for all_positions in (False, True):
        recipe = replace(SOURCE_RECIPE, all_positions=all_positions, steps=batches)
        keras.utils.set_random_seed(0)
        loader.rng = np.random.default_rng(0)
        model = FusedCharLSTM(loader.num_chars)  # the chapter's path
        optimizer = make_optimizer(recipe)
        jit_compile = TRAIN_WITH_XLA
        step = make_train_step(model, optimizer, all_positions, True, jit_compile)
        for _ in range(batches):
            step(*loader.get_batch(40, 50, all_targets=all_positions))
        loss = make_evaluator(model, windows)()
        name = "every position" if all_positions else "last character (source)"
        print(f"| {name} | {loss:.3f} |")


def seed_spread(loader, seeds, steps, stream_chars=None):
    """Chapter 6's comparison, from the given seeds (chapter 6 itself runs seed 0): the
    main recipe on random windows (zero state) and on consecutive windows (state
    carried), each scored on the window metric and on the validation text read as one
    stream. Long: two training runs per seed."""
    recipe = replace(MAIN_RECIPE, steps=steps)
    windows = held_out_windows(loader, recipe.seq_length)
    stream = loader.splits["val"][:stream_chars]
    rows = {"random windows, zero state": [], "consecutive windows, state carried": []}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        loader.rng = np.random.default_rng(seed)
        model = FusedCharLSTM(loader.num_chars, units=recipe.units)
        step = make_train_step(
            model, make_optimizer(recipe), True, True, TRAIN_WITH_XLA
        )
        for _ in range(steps):
            step(
                *loader.get_batch(
                    recipe.seq_length, recipe.batch_size, all_targets=True
                )
            )
        scored = to_char_lstm(model)
        rows["random windows, zero state"].append(
            (
                make_evaluator(model, windows)(),
                streamed_loss(scored, stream),
            )
        )
        keras.utils.set_random_seed(seed)
        model = CharLSTM(loader.num_chars, units=recipe.units)
        step = make_stateful_step(model, make_optimizer(recipe))
        batches = consecutive_batches(
            loader.splits["train"], recipe.batch_size, recipe.seq_length
        )
        for _ in range(steps):
            X, y, new_pass = next(batches)
            if new_pass:
                state = model.initial_state(recipe.batch_size)
            _, state = step(X, y, state)
        rows["consecutive windows, state carried"].append(
            (
                make_evaluator(model, windows)(),
                streamed_loss(model, stream),
            )
        )
    print(f"\n| seeds ({steps} steps of the main recipe) | seed | window | stream |")
    print("| --- | ---: | ---: | ---: |")
    for name, results in rows.items():
        for seed, (window, streamed) in zip(seeds, results):
            print(f"| {name} | {seed} | {window:.3f} | {streamed:.3f} |")
        if len(seeds) > 1:
            window, streamed = np.array(results).T
            print(
                f"| {name} | spread | {np.ptp(window):.3f} | {np.ptp(streamed):.3f} |"
            )


def generation_speed(loader, length):
    """Characters per second: the source's re-feed of 40 characters, and stateful
    one-step generation with and without XLA. Speed does not depend on the weights, so
    an untrained model serves."""
    keras.utils.set_random_seed(0)
    model = CharLSTM(loader.num_chars)
    prompt = loader.decode(loader.splits["val"][:40])
    rows = []
    steppers = {
        "tf.function": make_stepper(model),
        "XLA": make_stepper(model, jit_compile=True),
    }
    for stepper in steppers.values():
        generate(model, loader, prompt, 5, stepper=stepper)  # trace and compile
    runs = [
        (
            "source: re-feed 40 characters per new one",
            lambda n: generate_refeed(model, loader, prompt, n, seed=0),
            length // 10,
            1,
        )
    ]
    for name, stepper in steppers.items():
        runs.append(
            (
                f"stateful, one step ({name})",
                lambda n, s=stepper: generate(model, loader, prompt, n, stepper=s),
                length,
                1,
            )
        )
        runs.append(
            (
                f"stateful, 16 samples per batch ({name})",
                lambda n, s=stepper: generate(
                    model, loader, prompt, n, num_samples=16, stepper=s
                ),
                length // 2,
                16,
            )
        )
    for name, run, chars, samples in runs:
        start = time.perf_counter()
        run(chars)
        rows.append((name, samples * chars / (time.perf_counter() - start)))
    print("\n| text generation | chars/s | speed-up vs source |")
    print("| --- | ---: | ---: |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} | {rate / rows[0][1]:.0f}x |")


def distributed_speed(loader, devices, rounds, repeats):
    """ms per step of the appendix's setups, taking turns over rounds: one device,
    MirroredStrategy on 1 and 2 logical CPU devices, and 1 and 2 worker processes."""
    recipe = MAIN_RECIPE
    starts = window_starts(loader, recipe.seq_length, recipe.batch_size, 40)
    model = FusedCharLSTM(loader.num_chars, units=recipe.units)
    model(np.zeros([1, recipe.seq_length], dtype=np.int32))
    weights, timed = model.get_weights(), starts[:repeats]
    cores = os.cpu_count()
    rows = {
        "one device, no strategy": [],
        "MirroredStrategy, 1 logical device": [],
        "MirroredStrategy, 2 logical devices": [],
        f"MultiWorkerMirroredStrategy, 1 worker, {cores} cores": [],
        f"MultiWorkerMirroredStrategy, 2 workers, {cores // 2} core(s) each": [],
    }
    names = list(rows)
    with tempfile.TemporaryDirectory() as folder:
        jobs = {
            n: prepare_job(Path(folder) / f"{n}", loader, starts, weights, recipe, n)
            for n in (1, 2)
        }
        for _ in range(rounds):
            rows[names[0]].append(time_one_device(loader, recipe, weights, timed)[1])
            for name, count in zip(names[1:3], (1, 2)):
                rows[name].append(
                    time_mirrored(devices[:count], loader, recipe, weights, timed)[1]
                )
            for name, count in zip(names[3:], (1, 2)):
                rows[name].append(chief_ms_per_step(jobs[count], count))
    base = np.median(rows[names[0]])
    print("\n| distributed step, main 64 x 64 | ms/step | vs one device |")
    print("| --- | ---: | ---: |")
    for name, values in rows.items():
        print(f"| {name} | {np.median(values):.1f} | {np.median(values) / base:.2f}x |")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=int, default=14, help="batches per training-step timing"
    )
    parser.add_argument(
        "--batches", type=int, default=1000, help="training batches per objective"
    )
    parser.add_argument(
        "--chars", type=int, default=3000, help="characters per stateful generator"
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="time only the appendix's tf.distribute setups",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the distributed timings"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="train chapter 6's two ways of batching from these seeds, only",
    )
    parser.add_argument(
        "--steps", type=int, default=2400, help="training steps per seed (--seeds)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny run of every table, to check that the script still runs",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.repeats, args.batches, args.chars, args.rounds = 4, 2, 20, 1
    # Before TensorFlow's first operation: two logical CPU devices for MirroredStrategy.
    devices = split_cpu(2) if args.distributed else None
    tf.get_logger().setLevel("ERROR")  # no notices that many steps are traced
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, "
        f"GPUs: {len(tf.config.list_physical_devices('GPU'))}; "
        f"TensorFlow {tf.__version__}"
    )
    loader = DataLoader(read_text(fetch_corpus()), seed=0)
    if args.distributed:
        distributed_speed(loader, devices, args.rounds, args.repeats)
        return
    if args.seeds:
        seed_spread(loader, args.seeds, args.steps)
        return
    training_speed(loader, args.repeats, smoke=args.smoke)
    generation_speed(loader, args.chars)
    objectives(loader, args.batches)
    if args.smoke:
        seed_spread(loader, seeds=[0, 1], steps=2, stream_chars=300)


if __name__ == "__main__":
    main()
