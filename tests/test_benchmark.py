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
