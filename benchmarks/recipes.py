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
                                                # an hour on 2 cores (idle machine)
python benchmarks/recipes.py --recipes book char_rnn --seeds 0
python benchmarks/recipes.py --paths            # ms/step of tf.function vs XLA only
python benchmarks/recipes.py --smoke            # seconds: does it still run? (a test)

Needs the corpus in Keras's cache (see the README). Writes the results (JSON) to
--out after every run and prints a Markdown table for benchmarks/README.md.
"""

import argparse
import functools
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
import rnnbook  # noqa: E402 (the book's code: pip install -e ., see the README)

NEEDED = (
    "DataLoader", "read_text", "fetch_corpus", "FusedCharLSTM", "MAIN_RECIPE",
    "make_optimizer", "make_train_step", "next_char_loss", "held_out_windows",
    "consecutive_batches", "sample_next", "generate_refeed", "describe_devices",
)  # fmt: skip


def book_code(names=NEEDED):
    """The names the chapters teach, up to the first chapter by which all of names
    are defined (rnnbook.upto; the chapters sometimes move code between them)."""
    for chapter in rnnbook.CHAPTERS:
        book = rnnbook.upto(chapter)
        if all(name in book for name in names):
            return book
    raise LookupError(f"the book defines none of {set(names) - set(book)}")


BOOK = book_code()
tf, keras, np = BOOK["tf"], BOOK["keras"], BOOK["np"]
ON_GPU = bool(tf.config.list_physical_devices("GPU"))
PATHS = {False: "tf.function", True: "XLA"}  # jit_compile: the path's name


@dataclass(frozen=True)
class Anchor:
    """One recipe: its network, its batches, its optimizer and its loss."""

    cell: str  # "lstm" or "gru" (fused Keras layers)
    units: tuple  # units of each recurrent layer
    embedding: int = 0  # 0: one-hot input, else an Embedding of this width
    dropout: float = 0.0  # between recurrent layers
    init: str = "keras"  # "keras" defaults, or "uniform": char-rnn's U(-0.08, 0.08)
    data: str = "random_windows"  # random_windows, chunks, every_3, consecutive
    seq_length: int = 64
    batch_size: int = 64
    optimizer: str = "book"  # book (Adam, cosine, clipnorm 1), adam, rmsprop
    learning_rate: float = 0.0  # adam / rmsprop (the book's is MAIN_RECIPE's)
    rho: float = 0.9  # rmsprop's decay of the squared-gradient average
    epsilon: float = 1e-7  # rmsprop's
    all_positions: bool = True  # a loss at every position, or the last one only
    clip_value: float = 0.0  # clip each gradient element (after grad_scale)
    grad_scale: float = 1.0  # char-rnn: the gradient of the loss summed over time
    lr_decay: tuple = ()  # (factor, after_epoch): char-rnn's per-epoch decay
    stateful: bool = False  # carry the state from batch to batch
    sampler: str = "state"  # "state" (carried) or "refeed" (the last 40 characters)
    chapter_code: bool = False  # the model and step of chapter 4 themselves
    about: str = ""


MAIN = BOOK["MAIN_RECIPE"]
RECIPES = {
    "book": Anchor(
        "lstm", (MAIN.units,), chapter_code=True,
        about="one-hot, LSTM 256, Adam 8e-3 cosine to 5e-4, clipnorm 1, random "
        "64-char windows x 64, loss at every position (MAIN_RECIPE)",
    ),
    "tf_tutorial": Anchor(
        "gru", (1024,), embedding=256, data="chunks", seq_length=100,
        optimizer="adam", learning_rate=1e-3,
        about="Embedding 256, GRU 1024, 101-char chunks shuffled (buffer 10,000) "
        "x 64, Adam 1e-3, loss at every position",
    ),
    "keras_io": Anchor(
        "lstm", (128,), data="every_3", seq_length=40, batch_size=128,
        optimizer="rmsprop", learning_rate=0.01, all_positions=False,
        sampler="refeed",
        about="one-hot, LSTM 128, 40-char windows every 3 chars, shuffled x 128, "
        "RMSprop 0.01, loss on the last character",
    ),
    "char_rnn": Anchor(
        "lstm", (128, 128), init="uniform", data="consecutive", seq_length=50,
        batch_size=50, optimizer="rmsprop", learning_rate=2e-3, rho=0.95,
        epsilon=1e-16, clip_value=5.0, grad_scale=50.0, lr_decay=(0.97, 10),
        stateful=True,
        about="one-hot, 2 x LSTM 128, 50 streams x 50 chars, state carried, RMSprop "
        "2e-3 (x0.97 a pass after 10), each gradient element clipped at 5",
    ),
    "book_gru": Anchor(
        "gru", (0,),  # units: matched to the LSTM's parameters (gru_units)
        about="the book's recipe with a GRU of the LSTM 256's parameter count",
    ),
    "book_2layer_dropout": Anchor(
        "lstm", (256, 256), dropout=0.2,
        about="the book's recipe with 2 x LSTM 256, dropout 0.2 between them",
    ),
}  # fmt: skip

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

PROMPT = "the free spirit "  # every sample starts here (lower case, in the vocab)
SAMPLE_SEED, TEMPERATURE, SAMPLE_LENGTH = 0, 0.5, 160


# ---------------------------------------------------------------- the networks
class CharRNN(keras.Model):
    """Characters -> one-hot or an embedding -> fused LSTM/GRU layers -> logits.

    call(inputs, all_positions, state, return_state) as chapter 3's models, with the
    state a flat list of tensors: [h, c] per LSTM layer, [h] per GRU layer.
    """

    def __init__(self, num_chars, anchor, units=None, **kwargs):
        super().__init__(**kwargs)
        self.num_chars, self.cell = num_chars, anchor.cell
        self.units = tuple(units or anchor.units)
        init, recurrent = {}, {}
        if anchor.init == "uniform":
            u = keras.initializers.RandomUniform(-0.08, 0.08)
            init, recurrent = (
                dict(kernel_initializer=u, bias_initializer=u),
                {"recurrent_initializer": u},
            )
        rnn = dict(lstm=keras.layers.LSTM, gru=keras.layers.GRU)[anchor.cell]
        self.embed = (
            keras.layers.Embedding(num_chars, anchor.embedding)
            if anchor.embedding
            else None
        )
        self.rnns = [
            rnn(n, return_sequences=True, return_state=True, **init, **recurrent)
            for n in self.units
        ]
        self.drop = keras.layers.Dropout(anchor.dropout) if anchor.dropout else None
        self.dense = keras.layers.Dense(num_chars, **init)

    def initial_state(self, batch_size):
        """Zeros, shaped as call's state."""
        per_layer = 2 if self.cell == "lstm" else 1
        return [tf.zeros([batch_size, n]) for n in self.units for _ in range(per_layer)]

    def call(
        self, inputs, all_positions=False, state=None, return_state=False,
        training=None,
    ):  # fmt: skip
        x = self.embed(inputs) if self.embed else tf.one_hot(inputs, self.num_chars)
        state = state or self.initial_state(tf.shape(inputs)[0])
        per_layer, new_state = (2 if self.cell == "lstm" else 1), []
        for i, layer in enumerate(self.rnns):
            if i and self.drop:
                x = self.drop(x, training=training)
            x, *s = layer(
                x, initial_state=state[i * per_layer : (i + 1) * per_layer],
                training=training,
            )  # fmt: skip
            new_state += s
        logits = self.dense(x if all_positions else x[:, -1])
        return (logits, new_state) if return_state else logits


def lstm_params(num_chars, units):
    """Parameters of a one-hot LSTM of units and its Dense output."""
    return (
        4 * (num_chars * units + units * units + units) + units * num_chars + num_chars
    )


def gru_params(num_chars, units):
    """The same for Keras's GRU (reset_after=True: two biases per gate)."""
    return 3 * (num_chars * units + units * units + 2 * units) + (
        units * num_chars + num_chars
    )


def gru_units(num_chars, lstm_units=MAIN.units):
    """The GRU width whose parameter count is closest to the LSTM's."""
    target = lstm_params(num_chars, lstm_units)
    return min(
        range(1, 2 * lstm_units), key=lambda u: abs(gru_params(num_chars, u) - target)
    )


def build_model(name, num_chars, seed):
    """The recipe's network, weights created from seed."""
    keras.utils.set_random_seed(seed)
    anchor = RECIPES[name]
    if anchor.chapter_code:
        model = BOOK["FusedCharLSTM"](num_chars, units=anchor.units[0])
    elif name == "book_gru":
        model = CharRNN(num_chars, anchor, units=(gru_units(num_chars),))
    else:
        model = CharRNN(num_chars, anchor)
    model(np.zeros([1, 1], dtype=np.int32))  # create the weights
    return model


def as_char_rnn(fused):
    """A CharRNN holding a FusedCharLSTM's weights (same layout), for the state."""
    model = CharRNN(fused.num_chars, RECIPES["book"], units=(fused.units,))
    model(np.zeros([1, 1], dtype=np.int32))
    model.set_weights(fused.get_weights())
    return model


# ---------------------------------------------------------------- the batches
def random_windows(loader, anchor, seed):
    """The book's: random windows from the loader (its rng reset to seed)."""
    loader.rng = np.random.default_rng(seed)
    per_pass = len(loader.splits["train"]) / (anchor.batch_size * anchor.seq_length)

    def batches():
        while True:
            yield loader.get_batch(
                anchor.seq_length, anchor.batch_size, all_targets=True
            )

    return per_pass, batches()


def chunks(loader, anchor, seed):
    """The TF tutorial's: consecutive chunks of seq_length + 1, shuffled, batched."""
    size = anchor.seq_length + 1
    data = loader.splits["train"]
    cut = data[: len(data) // size * size].reshape(-1, size)
    dataset = (
        tf.data.Dataset.from_tensor_slices(cut)
        .map(lambda c: (c[:-1], c[1:]))
        .shuffle(10_000, seed=seed)
        .batch(anchor.batch_size, drop_remainder=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )
    return len(cut) // anchor.batch_size, iter(dataset)


def every_3(loader, anchor, seed):
    """keras.io's: windows every 3 characters, reshuffled each pass."""
    data, n = loader.splits["train"], anchor.seq_length
    starts = np.arange(0, len(data) - n, 3)
    per_pass = len(starts) // anchor.batch_size
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            order = rng.permutation(starts)
            for i in range(per_pass):
                s = order[i * anchor.batch_size : (i + 1) * anchor.batch_size]
                yield data[s[:, None] + np.arange(n)], data[s + n]

    return per_pass, batches()


def consecutive(loader, anchor, seed):
    """char-rnn's: batch_size streams read in order (chapter 4's generator)."""
    data = loader.splits["train"]
    per_stream = (len(data) - 1) // anchor.batch_size
    batches = BOOK["consecutive_batches"](data, anchor.batch_size, anchor.seq_length)
    return per_stream // anchor.seq_length, ((X, y) for X, y, _ in batches)


BATCHES = dict(
    random_windows=random_windows, chunks=chunks, every_3=every_3,
    consecutive=consecutive,
)  # fmt: skip


# ------------------------------------------------------------ training steps
def make_optimizer(anchor, schedule_steps):
    """The recipe's optimizer (the book's: chapter 4's, its schedule this long)."""
    if anchor.optimizer == "book":
        return BOOK["make_optimizer"](replace(MAIN, steps=schedule_steps))
    if anchor.optimizer == "adam":
        return keras.optimizers.Adam(anchor.learning_rate)
    return keras.optimizers.RMSprop(
        anchor.learning_rate, rho=anchor.rho, epsilon=anchor.epsilon
    )


def make_step(model, optimizer, anchor, jit_compile):
    """One training step: (X, y, state) -> (loss, end state). Chapter 4's step, with
    the variants' options: dropout (training=True), the last position only,
    element-wise clipping of the scaled gradient, the state returned as a value."""
    next_char_loss, variables = BOOK["next_char_loss"], model.trainable_variables

    def step(X, y, state):
        with tf.GradientTape() as tape:
            logits, state = model(
                X, all_positions=anchor.all_positions, state=state,
                return_state=True, training=True,
            )  # fmt: skip
            loss = next_char_loss(y, logits)
        grads = tape.gradient(loss, variables)
        if anchor.clip_value:
            c = anchor.clip_value
            grads = [tf.clip_by_value(g * anchor.grad_scale, -c, c) for g in grads]
        optimizer.apply_gradients(zip(grads, variables))
        return loss, state

    return tf.function(step, jit_compile=jit_compile)


class Run:
    """A recipe being trained from a seed: model, optimizer, batches, state."""

    def __init__(self, name, loader, seed, jit_compile, schedule_steps=MAIN.steps):
        self.name, self.anchor = name, RECIPES[name]
        self.model = build_model(name, loader.num_chars, seed)
        self.optimizer = make_optimizer(self.anchor, schedule_steps)
        self.per_pass, self.batches = BATCHES[self.anchor.data](
            loader, self.anchor, seed
        )
        self.steps, self.state = 0, None
        if self.anchor.chapter_code:  # chapter 4's own step, as chapter 4 builds it
            self.step_fn = BOOK["make_train_step"](
                self.model, self.optimizer, True, True, jit_compile
            )
        else:
            self.step_fn = make_step(
                self.model, self.optimizer, self.anchor, jit_compile
            )
        if self.anchor.stateful:
            self.state = self.model.initial_state(self.anchor.batch_size)

    def decay(self):
        """char-rnn: x factor at the end of each pass from pass after_epoch on."""
        factor, after = self.anchor.lr_decay
        done = self.steps // self.per_pass
        if self.steps % self.per_pass == 0 and done >= after:
            self.optimizer.learning_rate = self.anchor.learning_rate * factor ** (
                done - after + 1
            )

    def step(self):
        """Draw the next batch and train on it; the loss (float, so waited for)."""
        X, y = next(self.batches)
        if self.anchor.chapter_code:
            loss = self.step_fn(X, y)
        else:
            loss, state = self.step_fn(X, y, self.state)
            self.state = state if self.anchor.stateful else None
        self.steps += 1
        if self.anchor.lr_decay:
            self.decay()
        return float(loss)


# ------------------------------------------------------------------- scoring
@functools.cache  # one compiled forward pass per model, reused by every score
def last_position(model):
    """The model's logits at the last position, compiled (tf.function)."""
    return tf.function(lambda X: model(X, all_positions=False))


def window_loss(model, windows, batch_size=512):
    """Mean loss on the character after each held-out window, from a zero state:
    chapter 4's make_evaluator for any of these models."""
    forward, total = last_position(model), 0.0
    for i in range(0, len(windows), batch_size):
        batch = windows[i : i + batch_size]
        logits = forward(batch[:, :-1])
        total += float(BOOK["next_char_loss"](batch[:, -1], logits)) * len(batch)
    return total / len(windows)


def stateful(model):
    """The model as a CharRNN, which reads a state and returns it."""
    return model if isinstance(model, CharRNN) else as_char_rnn(model)


def streamed_loss(model, codes, chunk=1000):
    """Mean loss on codes[1:], read as one stream with the state carried: chapter
    4's streamed_loss for any of these models."""
    net = stateful(model)

    @tf.function
    def forward(X, y, state):
        logits, state = net(X, all_positions=True, state=state, return_state=True)
        return BOOK["next_char_loss"](y, logits), state

    state, total = net.initial_state(1), 0.0
    for i in range(0, len(codes) - 1, chunk):
        y = codes[i + 1 : i + chunk + 1]
        loss, state = forward(codes[i : i + len(y)][None, :], y[None, :], state)
        total += float(loss) * len(y)
    return total / (len(codes) - 1)


def in_units(nats):
    """nats/char -> {nats, bits per character, perplexity}."""
    return {"nats": nats, "bits": nats / math.log(2), "perplexity": math.exp(nats)}


def sample(model, loader, sampler, length=SAMPLE_LENGTH, prompt=PROMPT):
    """length characters at T = 0.5 after the prompt: the state carried (one step a
    character), or the last 40 characters re-fed for each (keras.io's way)."""
    if sampler == "refeed":
        return BOOK["generate_refeed"](
            model, loader, prompt, length, TEMPERATURE, SAMPLE_SEED, seq_length=40
        )
    net, rng = stateful(model), np.random.default_rng(SAMPLE_SEED)
    step = tf.function(lambda X, s: net(X, state=s, return_state=True))
    logits, state = step(loader.encode(prompt)[None, :], net.initial_state(1))
    codes = []
    for _ in range(length):
        codes.append(int(BOOK["sample_next"](logits.numpy(), TEMPERATURE, rng)[0]))
        logits, state = step(np.array([[codes[-1]]], dtype=np.int32), state)
    return loader.decode(codes)


# ------------------------------------------------------------------ the runs
def measure_paths(name, loader, jits, seconds=3.0, rounds=3):
    """Median ms/step of the recipe on each path (jit_compile in jits), from
    throwaway runs that take turns, seconds (at least one step) at a time, so that
    a busy spell of the machine hits every path."""
    runs = {jit: Run(name, loader, 0, jit) for jit in jits}
    for run in runs.values():
        run.step()  # traces and compiles
    times = {jit: [] for jit in jits}
    for _ in range(rounds):
        for jit, run in runs.items():
            start = time.perf_counter()
            while not times[jit] or time.perf_counter() - start < seconds:
                began = time.perf_counter()
                run.step()
                times[jit].append(time.perf_counter() - began)
    return {jit: 1000 * float(np.median(t)) for jit, t in times.items()}


def choose_path(name, loader, args):
    """(jit_compile, {path: ms/step}): on a GPU tf.function (cuDNN's kernels, which
    XLA cannot compile), not timed; on a CPU the faster of tf.function and XLA, as
    measured here and now, unless --path names one."""
    if ON_GPU or args.path != "auto":
        return args.path == "XLA" and not ON_GPU, {}
    ms = measure_paths(name, loader, (False, True))
    return min(ms, key=ms.get), {PATHS[jit]: t for jit, t in ms.items()}


def train_for(run, budget, eval_every, score):
    """Train until budget seconds of training time; the clock stops while score()
    runs, every eval_every seconds. Returns the timings and the curve."""
    start = time.perf_counter()
    run.step()  # the first call traces and compiles: timed apart, not budgeted
    first_call, clock, next_eval = time.perf_counter() - start, 0.0, eval_every
    times, losses, curve = [], [], []
    while clock < budget:
        start = time.perf_counter()
        losses.append(run.step())
        times.append(time.perf_counter() - start)
        clock += times[-1]
        if clock >= next_eval or clock >= budget:
            point = {"seconds": round(clock, 2), "step": run.steps}
            point["train_loss"] = float(np.mean(losses))
            point["window_loss"], losses = score(), []
            curve.append(point)
            next_eval += eval_every
    return {
        "first_call_s": first_call,
        "ms_per_step": 1000 * float(np.median(times)),
        "curve": curve,
    }


def run_recipe(name, loader, seed, jit_compile, schedule_steps, config):
    """One recipe from one seed: train for the budget, then score and sample."""
    run = Run(name, loader, seed, jit_compile, schedule_steps)
    windows, stream = config["windows"], config["stream"]
    subset = windows[: config["subset"]]
    result = train_for(
        run,
        config["budget"],
        config["eval_every"],
        lambda: window_loss(run.model, subset),
    )
    result["steps"] = run.steps
    result["passes"] = run.steps / run.per_pass
    result["window"] = in_units(window_loss(run.model, windows))
    result["streamed"] = in_units(streamed_loss(run.model, stream))
    result["sample"] = sample(run.model, loader, run.anchor.sampler, config["length"])
    return {"seed": seed, **result}


def summarize(runs):
    """Mean and spread (max - min) over seeds of the headline numbers."""
    rows = {
        "window_nats": [r["window"]["nats"] for r in runs],
        "streamed_nats": [r["streamed"]["nats"] for r in runs],
        "steps": [r["steps"] for r in runs],
        "ms_per_step": [r["ms_per_step"] for r in runs],
    }
    summary = {
        k: {"mean": float(np.mean(v)), "spread": float(np.ptp(v))}
        for k, v in rows.items()
    }
    for metric in ("window", "streamed"):
        mean = summary[f"{metric}_nats"]["mean"]
        summary[f"{metric}_bits"] = mean / math.log(2)
        summary[f"{metric}_perplexity"] = math.exp(mean)
    return summary


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
        "devices": BOOK["describe_devices"](),
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
    parser.add_argument("--out", help="results file (recipes.json in results/)")
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
    if args.out is None:
        args.out = (
            tempfile.mkstemp(prefix="recipes-", suffix=".json")[1]
            if smoke
            else str(ROOT / "benchmarks" / "results" / "recipes.json")
        )
    return args


def scoring_config(loader, args):
    """The held-out windows, the stream and the sample length (tiny when smoke)."""
    windows = BOOK["held_out_windows"](loader, MAIN.seq_length, count=4096)
    stream = loader.splits["val"]
    config = dict(budget=args.budget, eval_every=args.eval_every, length=SAMPLE_LENGTH)
    if args.smoke:
        windows, stream, config["length"] = windows[:64], stream[:300], 20
    return dict(config, windows=windows, stream=stream, subset=len(windows) // 4)


def main(argv=None):
    """Run every recipe and seed asked for; returns the results (also in --out)."""
    args = parse(argv)
    tf.get_logger().setLevel("ERROR")  # no notices that many steps are traced
    loader = BOOK["DataLoader"](BOOK["read_text"](BOOK["fetch_corpus"]()), seed=0)
    if args.paths:
        paths_table(args.recipes, loader, args)
        return None
    config = scoring_config(loader, args)
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
        write(results, args.out)
    print(markdown(results))
    print(f"\nResults: {args.out}")
    return results


def run_all_seeds(name, loader, args, config):
    """Every seed of one recipe, with its calibration, counts and summary."""
    anchor = RECIPES[name]
    jit_compile, path_ms = choose_path(name, loader, args)
    schedule = None  # the cosine schedule's length: the steps that fit the budget
    if anchor.optimizer == "book":
        ms = path_ms.get(PATHS[jit_compile])
        timing = (0.0, 1) if args.smoke else (3.0, 3)
        ms = ms or measure_paths(name, loader, (jit_compile,), *timing)[jit_compile]
        schedule = max(1, int(1000 * args.budget / ms))
    model = build_model(name, loader.num_chars, 0)
    entry = {
        "about": anchor.about,
        "source": SOURCES[name],
        "parameters": model.count_params(),
        "path": PATHS[jit_compile],
        "path_ms_per_step": path_ms,
        "schedule_steps": schedule,
        "runs": [],
    }
    if name == "book_gru":
        entry["units"] = model.units
        entry["book_lstm_parameters"] = lstm_params(loader.num_chars, MAIN.units)
        print(
            f"book_gru: GRU {model.units[0]} units, {entry['parameters']:,} "
            f"parameters; the book's LSTM {MAIN.units}: "
            f"{entry['book_lstm_parameters']:,}"
        )
    for seed in args.seeds:
        run = run_recipe(
            name, loader, seed, jit_compile, schedule or MAIN.steps, config
        )
        entry["runs"].append(run)
        print(
            f"{name} seed {seed}: {run['steps']:,} steps, "
            f"{run['ms_per_step']:.1f} ms/step, window {run['window']['nats']:.3f}, "
            f"streamed {run['streamed']['nats']:.3f} nats/char",
            flush=True,
        )
    entry["summary"] = summarize(entry["runs"])
    return entry


def write(results, out):
    """Save the results so far (after every recipe: a stopped run keeps them)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
