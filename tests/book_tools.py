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
    """Copy the site the tests build and check to $RNN_BOOK_SITE, if it is set: the
    Pages workflow deploys that copy, so the published site is the tested one."""
    destination = destination or os.environ.get("RNN_BOOK_SITE")
    if not destination:
        return None
    destination = Path(destination)
    if not destination.is_absolute():
        destination = ROOT / destination
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(html, destination)
    return destination
