#!/usr/bin/env python3
"""Execute chapter notebooks top to bottom and store their outputs.

Each notebook is copied alone into an empty temporary folder and run there in a
fresh ``python3`` kernel, the way a reader runs it in Colab: nothing from the
repository is beside it. The executed notebook is written back in place, stamped
in its metadata (``rnn_book``) as a full-length run, with the versions of Python,
TensorFlow, Keras and NumPy that its kernel ran on (printed by a last cell that this
script adds for the run and removes), the sha256 of its code (``code_sha256``, see
notebook_io.code_hash) and a fingerprint of each code cell's source and outputs
(``cells``, see notebook_io.cell_hashes). If the notebook changed on disk while it
ran (an edit saved in Jupyter), it is left as it is and the run is reported as not
written.

    python scripts/run_notebooks.py                      # the stale chapters
    python scripts/run_notebooks.py --all                # every chapter
    python scripts/run_notebooks.py book/02_data.ipynb   # some chapters
    python scripts/run_notebooks.py --quick --output logs/   # test-length runs

With no notebook named, it runs the chapters whose stamp no longer matches their
code or outputs (an edited cell, a regenerated first cell, a cell re-run by hand),
and says which. Every run carries on past a chapter that fails (an error, a cell
that runs past --timeout, a kernel that dies), and lists the failures at the end: a
failed chapter is never written in place, and under ``--output`` it is written with
the failing cell's error.

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

from notebook_io import (
    FileChanged,
    cell_hashes,
    code_hash,
    read_notebook,
    write_notebook,
)
from sync_exports import ROOT, chapters, problems


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
    its length, the kernel's versions, the sha256 of the code that ran, and a
    fingerprint of each code cell's source and outputs as stored."""
    stored = nbformat.reads(nbformat.writes(nb), as_version=4)  # as a reader reads it
    return {
        "run": "quick" if quick else "full",
        **versions,
        "code_sha256": code_hash(stored),
        "cells": cell_hashes(stored),
    }


def stamp_problem(nb):
    """Why a stored notebook's outputs may not be those of its stamped run, or None:
    no full-length stamp, code changed, or outputs changed after the run."""
    recorded = nb.metadata.get(STAMP, {})
    if recorded.get("run") != "full":
        return "it has no stamp of a full-length run"
    if recorded.get("code_sha256") != code_hash(nb):
        return "its code changed after its stamped run"
    now = cell_hashes(nb)
    if recorded.get("cells") != now:
        before = recorded.get("cells") or []
        changed = [i for i, h in enumerate(now) if i >= len(before) or h != before[i]]
        where = f"code cell {changed[0]}" if changed else "its cells"
        return f"the outputs of {where} changed after its stamped run"
    return None


# What chapters 5 to 7 download from the repository (PUBLISHED_URL), by the name they
# give it in Keras's cache, and the committed file it is.
PUBLISHED = {
    "rnn-book-manifest.json": "book/_static/model/manifest.json",
    "rnn-book-weights.bin": "book/_static/model/weights.bin",
    "rnn-book-recipes.json": "benchmarks/results/recipes.json",
}


def published_not_cached(keras_home=None):
    """[(committed file, cache path)] for each published file that Keras's cache lacks,
    or holds in another version. A full-length run then downloads it, and with no
    internet chapter 5 trains the model and chapter 6 runs a short live comparison
    instead of reading the committed results."""
    home = keras_home or os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    missing = []
    for cached, committed in PUBLISHED.items():
        path = Path(home).expanduser() / "rnn_book" / cached
        if not path.is_file() or path.read_bytes() != (ROOT / committed).read_bytes():
            missing.append((committed, path))
    return missing


def stale_chapters():
    """The chapters whose stored outputs are not those of their stamped run."""
    return [path for path in chapters() if stamp_problem(read_notebook(path)[0])]


def kernel_environment(quick):
    env = {k: v for k, v in os.environ.items() if k not in TEST_VARIABLES}
    if quick:
        env["RNN_BOOK_QUICK"] = "1"
    return env


def describe(error):
    """One line about what stopped a run."""
    if getattr(error, "ename", None):  # a cell raised: name its error, not nbclient's
        return f"{error.ename}: {str(error.evalue)[:200]}"
    first = str(error).strip().splitlines()
    name = type(error).__name__
    return f"{name}: {first[0][:200]}" if first else name


def keep_checkpoints(workdir, keep):
    """Copy the run's checkpoint folders (workdir/checkpoints/*) into keep, each only
    where keep has no folder of that name yet; returns the names copied."""
    found = Path(workdir) / "checkpoints"
    Path(keep).mkdir(parents=True, exist_ok=True)
    copied = []
    for run in sorted(found.iterdir()) if found.is_dir() else []:
        target = Path(keep) / run.name
        if target.exists():
            print(f"  kept nothing of {run.name}: {target} exists", flush=True)
            continue
        shutil.copytree(run, target)
        copied.append(run.name)
    return copied


def execute(path, timeout, quick=False, output=None, keep=None):
    """Run the notebook at path; write it to output (default: in place).

    Returns None, or the error that stopped it: a failing cell, a cell past the
    timeout, a dead kernel. keep: a folder into which the checkpoints of a
    successful run are copied (chapter 4's main run, which scripts/export_model.py
    then publishes). A stopped run is written only to output, with the
    failing cell's error; in place, nothing is written. Raises FileChanged, having
    written nothing, when the notebook is written in place and its file changed
    while it ran."""
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
        except Exception as err:  # a cell's error, a timeout, a dead kernel, ...
            error = err
        if keep is not None and error is None:
            for name in keep_checkpoints(workdir, keep):
                print(f"  kept its checkpoints {name} in {keep}", flush=True)
    versions = pop_versions_cell(nb)
    tidy_outputs(nb)
    nb.metadata[STAMP] = stamp(nb, versions, quick)
    if output is None:
        if error is None:
            write_notebook(path, nb, token)
    else:
        nbformat.write(nb, output)
    return error


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="default: the chapters whose stamp no longer matches (see --all)",
    )
    parser.add_argument(
        "--all", action="store_true", help="run every chapter of _toc.yml"
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
        "--keep-checkpoints",
        type=Path,
        metavar="DIR",
        help="copy each run's checkpoint folders into DIR (chapter 4's main run, for "
        "scripts/export_model.py: book/checkpoints)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write the executed notebooks to this folder, not in place (a failed "
        "one with its error)",
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
    if args.notebooks:
        paths = args.notebooks
    elif args.all or args.output:
        paths = chapters()
    else:
        paths = stale_chapters()
        names = ", ".join(p.name for p in paths) or "none"
        print(f"chapters whose stamp no longer matches their code or outputs: {names}")
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
    for committed, cached in [] if args.quick else published_not_cached():
        print(
            f"note: Keras's cache lacks the committed {committed}. The chapters "
            "download it from the repository; offline, chapter 5 trains the model and "
            "chapter 6 runs a short live comparison instead. To run them on the "
            f"committed file: cp {committed} {cached}"
        )
    failed = []
    for path in paths:
        start = time.perf_counter()
        print(f"executing {path} ...", flush=True)
        output = args.output / path.name if args.output else None
        try:
            error = execute(
                path.resolve(), args.timeout, args.quick, output, args.keep_checkpoints
            )
        except FileChanged as changed:
            failed.append(f"{path.name}: not written: {changed}")
            print(f"  NOT WRITTEN: {changed}", flush=True)
            continue
        seconds = time.perf_counter() - start
        if error:
            kept = f"see {output}" if output else "the stored notebook is unchanged"
            failed.append(f"{path.name}: {describe(error)}")
            print(
                f"  FAILED after {seconds:.0f} s ({kept}): {describe(error)}",
                flush=True,
            )
        else:
            print(f"  done in {seconds:.0f} s", flush=True)
    if failed:
        print(f"{len(failed)} of {len(paths)} failed:")
        print("\n".join(f"  {line}" for line in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
