"""The benchmark script keeps running against the chapters' code (a tiny run; no
timing is asserted: the numbers of a smoke run mean nothing)."""

import os
import subprocess
import sys

from book_tools import ROOT


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
    """Chapter 6's analysis of chapter 4's carried-state variant, on tiny sizes."""
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
