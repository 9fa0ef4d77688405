"""Linters: Ruff over every .py file and chapter notebook, actionlint over the CI
workflows.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def tool(name):
    """A linter installed by requirements.txt, next to this Python (or else on PATH)."""
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: pip install -r requirements.txt")
    return found


def run(*command):
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def test_ruff_finds_nothing():
    """ruff.toml holds the rules, and why the notebooks are spared a few."""
    code, report = run(
        tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."
    )
    assert code == 0, report


def test_code_is_formatted():
    """Every code cell and Python file as `ruff format` writes it (88 columns)."""
    code, report = run(tool("ruff"), "format", "--no-cache", "--check", ".")
    assert code == 0, report + "\nrun: ruff format ."


def test_ruff_reads_the_notebooks():
    _, listed = run(tool("ruff"), "check", "--no-cache", "--show-files", ".")
    for chapter in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        assert str(chapter) in listed, f"ruff does not lint {chapter.name}"


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert workflows, "no workflow in .github/workflows"
    code, report = run(tool("actionlint"), "-oneline", *map(str, workflows))
    assert code == 0, report
