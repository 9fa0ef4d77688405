"""pytest set-up shared by tests/ and the nbval runs over book/."""

import os
import shutil
from pathlib import Path

from nbval.plugin import IPyNbCell

# Chapters that train a model read this knob and run a shorter schedule, so CI stays
# fast. The committed outputs come from full runs (scripts/run_notebooks.py drops it).
os.environ.setdefault("RNN_BOOK_QUICK", "1")
# Keep TensorFlow's C++ logs out of the kernels nbval starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _without_stderr(outputs):
    return [
        out
        for out in outputs
        if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
    ]


_compare_outputs = IPyNbCell.compare_outputs


def compare_outputs_ignoring_stderr(self, test, ref, skip_compare=None):
    """Compare checked cells on what they print and return, not on stderr warnings."""
    return _compare_outputs(
        self, _without_stderr(test), _without_stderr(ref), skip_compare
    )


IPyNbCell.compare_outputs = compare_outputs_ignoring_stderr


def pytest_sessionstart(session):
    """Start the notebooks' training runs from scratch: no leftover checkpoints."""
    shutil.rmtree(
        Path(__file__).resolve().parent / "book" / "checkpoints", ignore_errors=True
    )
