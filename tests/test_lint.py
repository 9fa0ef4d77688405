"""Linters: Ruff over every .py file and chapter notebook; the CI workflows validated
against the GitHub-workflow schema that check-jsonschema bundles (nothing downloaded).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from book_tools import ROOT, sync_exports


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
    for chapter in sync_exports.chapters():
        assert str(chapter) in listed, f"ruff does not lint {chapter.name}"


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


def validate_workflows(*paths):
    return run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths
    )


def test_workflows_are_valid():
    assert WORKFLOWS, "no workflow in .github/workflows"
    code, report = validate_workflows(*map(str, WORKFLOWS))
    assert code == 0, report


def test_the_workflow_check_catches_a_misspelt_key(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (ROOT / ".github" / "workflows" / "book.yml")
        .read_text(encoding="utf-8")
        .replace("runs-on:", "runs_on:", 1),
        encoding="utf-8",
    )
    code, report = validate_workflows(str(broken))
    assert code != 0 and "runs_on" in report, report


def workflow(name):
    spec = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text("utf-8"))
    return spec, spec.get("on", spec.get(True))  # YAML 1.1 reads a bare `on` as True


def test_the_pages_workflow_runs_ci_and_deploys_the_tested_site():
    spec, _ = workflow("book.yml")
    steps = spec["jobs"]["build"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any(r.strip() == "bash .ci/run" for r in runs), "book.yml must call .ci/run"
    assert not any("pytest" in r or "jupyter-book" in r for r in runs), (
        "book.yml tests and builds only through .ci/run"
    )
    uploads = [s for s in steps if "upload-pages-artifact" in s.get("uses", "")]
    assert [s["with"]["path"] for s in uploads] == ["_build/html"]


def test_the_canary_runs_weekly_and_on_demand():
    spec, triggers = workflow("canary.yml")
    assert "workflow_dispatch" in triggers and triggers["schedule"][0]["cron"]
    runs = [s.get("run", "") for s in spec["jobs"]["newest-tensorflow"]["steps"]]
    assert "bash .ci/canary" in runs
