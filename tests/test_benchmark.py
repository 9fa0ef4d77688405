"""The benchmark scripts keep running against the chapters' code (a tiny run; no
timing is asserted: the numbers of a smoke run mean nothing), and the results that a
chapter quotes are the committed results file's."""

import importlib.util
import json
import os
import re
import subprocess
import sys

import nbformat

from book_tools import ROOT

CARRIED = ROOT / "benchmarks" / "results" / "carried_state.json"


def test_benchmark_script_runs_in_its_smoke_mode():
    result = subprocess.run(
        [sys.executable, "benchmarks/benchmark.py", "--smoke"],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tables = ("| training step |", "| text generation |", "| objective ", "| seeds ")
    for table in tables:
        assert table in result.stdout, result.stdout


def test_carried_state_script_runs_in_its_smoke_mode(tmp_path):
    """Chapter 7's analysis of chapter 6's carried-state variant, on tiny sizes."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "carried_state.py"), "--smoke"],
        cwd=tmp_path,  # no checkpoints to reuse: both models train (3 steps)
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| line position: best unit, r |" in result.stdout, result.stdout
    assert "| consecutive windows, state carried |" in result.stdout, result.stdout


def carried_state_script():
    path = ROOT / "benchmarks" / "carried_state.py"
    spec = importlib.util.spec_from_file_location("carried_state_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chapter_7_quotes_the_committed_carried_state_results():
    """Chapter 7 cannot train the carried-state model in its time budget; it quotes
    two tables of benchmarks/results/carried_state.json, which carried_state.py
    --update writes. The page shows exactly what the file holds."""
    results = json.loads(CARRIED.read_text(encoding="utf-8"))
    assert not results["smoke"] and results["shifts"] == 200
    tables = carried_state_script().markdown(results)
    nb = nbformat.read(ROOT / "book" / "07_inside_the_lstm.ipynb", as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for table in tables.split("\n\n"):
        assert table in prose, (
            f"chapter 7 does not show this table of the file:\n{table}"
        )


def test_the_quoted_counts_are_the_pages_own():
    """The main model's word ends by line fill, as the file has them, are the counts
    that chapter 7 computes on the page (the same text, from the same position)."""
    results = json.loads(CARRIED.read_text(encoding="utf-8"))
    main = results["models"]["random windows, zero state (main)"]["newlines"]
    nb = nbformat.read(ROOT / "book" / "07_inside_the_lstm.ipynb", as_version=4)
    printed = next(
        out["text"]
        for c in nb.cells
        for out in c.get("outputs", [])
        if "text" in out and out["text"].startswith("line so far  word ends")
    )
    rows = re.findall(r"^(\d+-\d+)\s+([\d,]+)\s+([\d.]+)%", printed, re.M)
    assert rows, printed
    on_page = [(span, int(n.replace(",", "")), float(p)) for span, n, p in rows]
    in_file = [(span, n, round(100 * share, 1)) for span, n, share, _ in main]
    assert on_page == in_file
