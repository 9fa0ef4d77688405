#!/usr/bin/env python3
"""Publish the main recipe's trained weights with the book, for the page's generator
and for chapters 5, 6 and 7 (which download them instead of training).

Uses the book's own exported code. It reuses chapter 4's finished run when one is
there and verified (reuse_finished_run): from book/checkpoints, where chapter 4 run in
Jupyter from book/ keeps it, or from the folder that RNN_BOOK_CHECKPOINTS names;
otherwise it trains the main recipe exactly as chapter 4 does (about 2.5 to 10
minutes on 2 CPU cores). Both files are written through notebook_io's
changed-since-read guard: a file edited while this runs is left as it is.
It writes, under book/_static/model/:

- weights.bin: every weight, little-endian, in the manifest's order and dtype;
- manifest.json: vocabulary, layer names, shapes and offsets, the recipe and its
  fingerprint, the held-out loss, and the sha256 of weights.bin.

The weights are stored as float16 when that changes the held-out loss (chapter 4's
4,096 windows, in NumPy) by less than 0.001 nats/char, else as float32.

    python scripts/export_model.py          # then paste the printed PUBLISHED_SHA256
                                            # into chapters 5-7; re-execute them
    python scripts/export_model.py --check  # do the committed files still load, for
                                            # this recipe and corpus, at their loss?
"""

import argparse
import hashlib
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "_static" / "model"
# Chapter 4, run in Jupyter from book/, keeps its finished run in book/checkpoints.
os.environ.setdefault("RNN_BOOK_CHECKPOINTS", str(ROOT / "book" / "checkpoints"))
import keras  # noqa: E402

# The book's code (pip install -e ., see the README), from the modules that define it:
from rnnbook.data import DataLoader, fetch_corpus, read_text  # noqa: E402
from rnnbook.sampling import main_model, read_weights  # noqa: E402
from rnnbook.training import MAIN_RECIPE, held_out_windows  # noqa: E402

from notebook_io import FileChanged, read_file, write_file  # noqa: E402

LAYERS = [
    "lstm/kernel",
    "lstm/recurrent_kernel",
    "lstm/bias",
    "dense/kernel",
    "dense/bias",
]
TOLERANCE = 1e-3  # nats/char: the most float16 may change the held-out loss


def numpy_logits(weights, codes):
    """The FusedCharLSTM's logits after each window of codes [B, T], from a zero state,
    in NumPy float32: the equations the page's JavaScript runs (gates i, f, g, o)."""
    kernel, recurrent, bias, dense, dense_bias = (np.float32(w) for w in weights)
    batch, units = len(codes), recurrent.shape[0]
    h = np.zeros([batch, units], np.float32)
    c = np.zeros([batch, units], np.float32)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for t in range(codes.shape[1]):
        z = kernel[codes[:, t]] + h @ recurrent + bias  # x_t is one-hot: a row of K
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h @ dense + dense_bias


def window_loss(weights, windows, batch=512):
    """Mean cross-entropy (nats) of the character after each window: chapter 4's
    held-out window metric."""
    total = 0.0
    for start in range(0, len(windows), batch):
        part = windows[start : start + batch]
        logits = numpy_logits(weights, part[:, :-1]).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total -= log_p[np.arange(len(part)), part[:, -1]].sum()
    return total / len(windows)


def load(folder=OUT):
    """(manifest, weights as float32 arrays), checked against the manifest's sha256."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    data = (Path(folder) / manifest["weights_file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ValueError(
            f"{folder}/{manifest['weights_file']} does not match its sha256"
        )
    return manifest, read_weights(manifest, data)


def trained_weights(loader, recipe, windows):
    """The main recipe's weights, from main_model, the one place that decides: chapter
    4's verified finished run, or trained here (never the published weights, which
    this script writes)."""
    keras.utils.set_random_seed(recipe.seed)
    loader.rng = np.random.default_rng(recipe.seed)  # as chapter 4 does
    model, curve = main_model(
        loader, recipe, windows, weights="train", prefix="export-main"
    )
    return model.get_weights(), curve["val_loss"][-1]


def write(folder, weights, dtype, vocabulary, recipe, losses, tokens):
    """Write weights.bin and manifest.json, each only if it is still the file that
    `tokens` ({name: read_file token}) says was read before training."""
    folder.mkdir(parents=True, exist_ok=True)
    layers, blobs, offset = [], [], 0
    for name, w in zip(LAYERS, weights, strict=True):
        blob = np.ascontiguousarray(
            w, dtype=np.dtype(dtype).newbyteorder("<")
        ).tobytes()
        layers.append({"name": name, "shape": list(w.shape), "offset": offset})
        blobs.append(blob)
        offset += len(blob)
    data = b"".join(blobs)
    write_file(folder / "weights.bin", data, tokens["weights.bin"])
    manifest = {
        "format": 1,
        "model": "FusedCharLSTM: one-hot -> LSTM (gates i, f, g, o) -> Dense logits",
        "vocabulary": vocabulary,
        "units": int(weights[1].shape[0]),
        "dtype": dtype,
        "byte_order": "little",
        "weights_file": "weights.bin",
        "sha256": hashlib.sha256(data).hexdigest(),
        "layers": layers,
        "recipe": asdict(recipe),
        "fingerprint": recipe.fingerprint(),
        "held_out": {"windows": 4096, "seed": 1234, **losses},
    }
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    write_file(folder / "manifest.json", text, tokens["manifest.json"])
    return manifest


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="load and score; no write")
    args = parser.parse_args(argv)
    loader = DataLoader(read_text(fetch_corpus()), seed=0)
    recipe = MAIN_RECIPE
    windows = held_out_windows(loader, recipe.seq_length, count=4096)
    if args.check:
        manifest, weights = load(args.out)
        loss = window_loss(weights, windows)
        print(f"{args.out}: {manifest['dtype']}, held-out loss {loss:.4f} nats/char")
        problems = []
        if manifest["fingerprint"] != recipe.fingerprint():
            problems.append(
                f"recipe {manifest['fingerprint']}, not {recipe.fingerprint()}"
            )
        if "".join(manifest["vocabulary"]) != loader.decode(
            np.arange(loader.num_chars)
        ):
            problems.append("another vocabulary than this corpus's")
        if abs(loss - manifest["held_out"][manifest["dtype"]]) > 1e-6:
            problems.append("a held-out loss other than the one the manifest records")
        for problem in problems:
            print(
                f"error: the published model has {problem}; re-export it",
                file=sys.stderr,
            )
        return 1 if problems else 0
    names = ("manifest.json", "weights.bin")
    tokens = {name: read_file(args.out / name)[1] for name in names}  # as read now
    weights, keras_loss = trained_weights(loader, recipe, windows)
    full = window_loss(weights, windows)
    half = window_loss([w.astype(np.float16) for w in weights], windows)
    dtype = "float16" if abs(half - full) < TOLERANCE else "float32"
    vocabulary = loader.decode(np.arange(loader.num_chars))
    losses = {"keras": float(keras_loss), "float32": full, "float16": half}
    try:
        write(args.out, weights, dtype, list(vocabulary), recipe, losses, tokens)
    except FileChanged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    size = (args.out / "weights.bin").stat().st_size
    print(f"held-out loss: Keras {keras_loss:.4f}, NumPy float32 {full:.4f}, "
          f"float16 {half:.4f} (change {half - full:+.5f})")  # fmt: skip
    print(f"wrote {dtype} weights.bin ({size:,} bytes) and manifest.json to {args.out}")
    print("Pin them in the form cell of chapters 5, 6 and 7:")
    print("PUBLISHED_SHA256 = {")
    for name in ("manifest.json", "weights.bin"):
        digest = hashlib.sha256((args.out / name).read_bytes()).hexdigest()
        print(f'    "{name}": "{digest}",')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
