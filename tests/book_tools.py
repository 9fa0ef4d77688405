"""Helpers the tests share: where the book is, its chapters, and how CI builds it.

Test modules import this (`from book_tools import ...`); the fixtures built on it live
in tests/conftest.py.
"""

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import build_site  # scripts/, on the path from the root conftest.py
import sync_exports  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def serving(folder):
    """A quiet web server for folder on 127.0.0.1, for the test's duration: yields
    its address (http://127.0.0.1:PORT/)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def build_book(source, out):
    """The site as CI builds it (scripts/build_site.py, warnings failing): (return
    code, log, path of the HTML site)."""
    return build_site.build(source, out, strict=True)


def keep_site(html, destination=None, root=ROOT):
    """Copy the site the tests build and check to $RNN_BOOK_SITE, if it is set
    (.ci/run sets _build/html): the Pages workflow deploys that copy, so the published
    site is the tested one. A relative destination is relative to the repository.

    Only two kinds of destination are accepted, as nothing else may be replaced: a
    folder under the repository's _build/ (replaced by the site), or a folder that
    does not exist yet or is empty (created, or filled). Anything else raises
    ValueError, before anything is deleted."""
    destination = destination or os.environ.get("RNN_BOOK_SITE")
    if not destination:
        return None
    destination = (root / destination).resolve()
    build = (root / "_build").resolve()
    if destination.is_relative_to(build) and destination != build:
        if destination.is_dir():
            shutil.rmtree(destination)
        elif destination.exists():
            destination.unlink()
    elif destination.exists() and not (
        destination.is_dir() and not any(destination.iterdir())
    ):
        raise ValueError(
            f"RNN_BOOK_SITE={destination} is neither a folder under {build} nor an "
            "empty or new folder, so the site is not copied there (it would replace "
            "what the folder holds); point it at _build/html, or at a new folder"
        )
    shutil.copytree(html, destination, dirs_exist_ok=True)
    return destination
