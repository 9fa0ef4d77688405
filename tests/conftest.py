"""Fixtures for the tests in tests/: the book's notebooks and the code they export."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import sync_exports  # noqa: E402

exported_namespace = sync_exports.load_exported


@pytest.fixture(scope="session")
def data_code():
    """fetch_corpus, read_text, DataLoader, ... as the data chapter defines them."""
    return exported_namespace("02_data")


def build_book(source, out):
    """`jupyter-book build` as CI runs it: (return code, log, path of the HTML site)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(source), "-W", "-n", "--keep-going"]
    result = subprocess.run(
        [*command, "--path-output", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = result.stdout + result.stderr
    return result.returncode, log, out / "_build" / "html"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """Build the book once per run, as CI does: (return code, build log, HTML path)."""
    return build_book(ROOT, tmp_path_factory.mktemp("site"))
