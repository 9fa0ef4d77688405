#!/usr/bin/env python3
"""Execute chapter notebooks top to bottom and store their outputs.

Each notebook is copied alone into an empty temporary folder and run there in a
fresh ``python3`` kernel, the way a reader runs it in Colab: nothing from the
repository is beside it. The executed notebook is written back in place, stamped
in its metadata (``rnn_book``) as a full-length run, with the versions of Python,
TensorFlow, Keras and NumPy that its kernel ran on (printed by a last cell that this
script adds for the run and removes) and the sha256 of its code (``code_sha256``,
see notebook_io.code_hash). If the notebook changed on disk while it ran (an edit
saved in Jupyter), it is left as it is and the run is reported as not written.

    python scripts/run_notebooks.py                      # every chapter
    python scripts/run_notebooks.py book/02_data.ipynb   # some chapters
    python scripts/run_notebooks.py --quick --output logs/   # test-length runs

Stored outputs are what a reader sees, so carriage-return progress bars are
collapsed to their final state (as Jupyter displays them) before saving, and no
execution timestamps are recorded. The kernel gets this process's environment
without RNN_BOOK_QUICK and RNN_BOOK_CHECKPOINTS: the committed outputs always come
from full-length runs. ``--quick`` keeps the short schedule instead, and then writes
the executed notebooks only under ``--output``, never over the committed ones.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from notebook_io import NotebookChanged, code_hash, read_notebook, write_notebook
from sync_exports import chapters, problems


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


STAMP = "rnn_book"
# The test suite's knobs, never passed to a full-length run.
TEST_VARIABLES = ("RNN_BOOK_QUICK", "RNN_BOOK_CHECKPOINTS")
VERSIONED = ("tensorflow", "keras", "numpy")
# The last cell of every run: it prints, on one line after this marker, the versions
# that the kernel itself has (not this script's), as JSON.
VERSIONS_MARKER = "rnn_book versions:"
VERSIONS_SOURCE = f"""\
import importlib.metadata, json, platform
_versions = {{"python": platform.python_version()}}
for _name in {VERSIONED!r}:
    try:
        _versions[_name] = importlib.metadata.version(_name)
    except importlib.metadata.PackageNotFoundError:
        _versions[_name] = None
print({VERSIONS_MARKER!r}, json.dumps(_versions))"""


def versions_cell():
    """The code cell that reports the kernel's versions, marked to be removed."""
    cell = nbformat.v4.new_code_cell(VERSIONS_SOURCE)
    cell.metadata[STAMP] = "versions"
    return cell


def pop_versions_cell(nb):
    """Remove the cell that versions_cell added (the last one) and return what it
    printed: {"python": ..., "tensorflow": ..., ...}, a None for each version when
    the cell did not run (an earlier cell failed)."""
    cell = nb.cells.pop()
    assert cell.metadata.get(STAMP) == "versions", "the versions cell is not last"
    versions = dict.fromkeys(("python", *VERSIONED))
    for out in cell.get("outputs", []):
        for line in out.get("text", "").splitlines():
            if line.startswith(VERSIONS_MARKER):
                versions.update(json.loads(line.removeprefix(VERSIONS_MARKER)))
    return versions


def stamp(nb, versions, quick):
    """What the notebook's metadata records about the run that produced its outputs:
    its length, the kernel's versions, and the sha256 of the code that ran."""
    return {
        "run": "quick" if quick else "full",
        **versions,
        "code_sha256": code_hash(nb),
    }


def kernel_environment(quick):
    env = {k: v for k, v in os.environ.items() if k not in TEST_VARIABLES}
    if quick:
        env["RNN_BOOK_QUICK"] = "1"
    return env


def execute(path, timeout, quick=False, output=None):
    """Run the notebook at path; write it to output (default: in place).

    Returns None, or the error that stopped it (the notebook is then still written
    with the failing cell's traceback, but only when output is given). Raises
    NotebookChanged, having written nothing, when the notebook is written in place
    and its file changed while it ran."""
    nb, token = read_notebook(path)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run
    nb.cells.append(versions_cell())
    error = None
    with tempfile.TemporaryDirectory(prefix="rnn-book-") as workdir:
        shutil.copy(path, workdir)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": workdir}},
        )
        try:
            client.execute(env=kernel_environment(quick))
        except CellExecutionError as err:
            if output is None:
                raise
            error = err
    versions = pop_versions_cell(nb)
    tidy_outputs(nb)
    nb.metadata[STAMP] = stamp(nb, versions, quick)
    if output is None:
        write_notebook(path, nb, token)
    else:
        nbformat.write(nb, output)
    return error


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="default: every chapter in book/"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=1800,
        help="seconds a single cell may run before it fails (default: 1800)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the test suite's short schedule (RNN_BOOK_QUICK=1); needs --output",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the executed notebooks to this folder, not in place; "
        "carry on past a failing notebook and report it at the end",
    )
    args = parser.parse_args(argv)
    if args.quick and args.output is None:
        parser.error("--quick runs are never written in place: give --output DIR")
    stale = problems()
    if stale:
        print(
            "Generated cells are stale; run scripts/sync_exports.py first:\n"
            + "\n".join(stale)
        )
        return 1
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in args.notebooks or chapters():
        start = time.perf_counter()
        print(f"executing {path} ...", flush=True)
        output = args.output / path.name if args.output else None
        try:
            error = execute(path.resolve(), args.timeout, args.quick, output)
        except NotebookChanged as changed:
            failed.append(path.name)
            print(f"  NOT WRITTEN: {changed}", flush=True)
            continue
        seconds = time.perf_counter() - start
        if error:
            failed.append(path.name)
            print(f"  FAILED after {seconds:.0f} s: see {output}", flush=True)
        else:
            print(f"  done in {seconds:.0f} s", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
