"""Helpers the tests share: where the book is, its chapters, and how CI builds it.

Test modules import this (`from book_tools import ...`); the fixtures built on it live
in tests/conftest.py.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import sync_exports  # noqa: E402

exported_namespace = sync_exports.load_exported


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


def keep_site(html, destination=None):
    """Copy the site the tests build and check to $RNN_BOOK_SITE, if it is set
    (.ci/run sets _build/html): the Pages workflow deploys that copy, so the published
    site is the tested one. The folder is replaced, so it must hold the site alone."""
    destination = destination or os.environ.get("RNN_BOOK_SITE")
    if not destination:
        return None
    destination = (ROOT / destination).resolve()  # relative: to the repository
    if (
        destination == ROOT
        or ROOT.is_relative_to(destination)
        or (destination.is_dir() and any(destination.glob("*.ipynb")))
    ):
        raise ValueError(
            f"RNN_BOOK_SITE={destination} would replace the repository or a folder "
            "of notebooks; point it at a folder for the site alone, e.g. _build/html"
        )
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(html, destination)
    return destination
