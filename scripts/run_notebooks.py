#!/usr/bin/env python3
"""Execute chapter notebooks top to bottom and store their outputs.

Each notebook is copied alone into an empty temporary folder and run there in a
fresh ``python3`` kernel, the way a reader runs it in Colab: nothing from the
repository is beside it. The executed notebook is written back in place.

    python scripts/run_notebooks.py                      # every chapter
    python scripts/run_notebooks.py book/02_data.ipynb   # some chapters

Stored outputs are what a reader sees, so carriage-return progress bars are
collapsed to their final state (as Jupyter displays them) before saving.
The variable RNN_BOOK_QUICK is removed from the kernel's environment: the
committed outputs always come from the full-length runs.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from sync_exports import chapters, problems  # noqa: E402


def collapse_carriage_returns(text):
    """Keep what a terminal would show: text after the last '\\r' of each line,
    backspaces applied.
    """
    lines = []
    for line in text.split("\n"):
        line = line.rstrip("\r").split("\r")[-1]
        while "\b" in line:
            line = re.sub("[^\b]\b|^\b+", "", line, count=1)
        lines.append(line)
    return "\n".join(lines)


def tidy_outputs(nb):
    """Merge consecutive writes to the same stream (as Jupyter displays them), then
    collapse carriage returns, so that a progress bar is stored as its final line.
    """
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                out.get("output_type") == "stream"
                and previous is not None
                and previous.get("output_type") == "stream"
                and previous["name"] == out["name"]
            ):
                previous["text"] += out["text"]
            else:
                merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = collapse_carriage_returns(out["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def execute(path, timeout=None):
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    env = {k: v for k, v in os.environ.items() if k != "RNN_BOOK_QUICK"}
    with tempfile.TemporaryDirectory(prefix="rnn-book-") as workdir:
        shutil.copy(path, workdir)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
        )
        saved_env = os.environ.copy()
        os.environ.clear()
        os.environ.update(env)
        try:
            client.execute()
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    tidy_outputs(nb)
    nbformat.write(nb, path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: every chapter in book/"
    )
    parser.add_argument(
        "--timeout", type=int, default=None, help="seconds per cell (default: none)"
    )
    args = parser.parse_args(argv)
    stale = problems()
    if stale:
        print(
            "Generated cells are stale; run scripts/sync_exports.py first:\n"
            + "\n".join(stale)
        )
        return 1
    for path in args.notebooks or chapters():
        start = time.perf_counter()
        print(f"executing {path} ...", flush=True)
        execute(path.resolve(), timeout=args.timeout)
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
