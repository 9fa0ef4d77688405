"""Fixtures for the tests in tests/: the book's notebooks and the code they export."""
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import sync_exports  # noqa: E402


def exported_namespace(upto):
    """Run the exported cells of every chapter up to and including `upto` (e.g. "02_data")."""
    namespace = {"__name__": "book_exports"}
    for path in sync_exports.chapters():
        nb = nbformat.read(path, as_version=4)
        for source in sync_exports.exported_sources(nb):
            exec(compile(source, f"{path.name}[export]", "exec"), namespace)
        if path.stem == upto:
            return namespace
    raise LookupError(f"no chapter named {upto}")


@pytest.fixture(scope="session")
def data_code():
    """fetch_corpus, read_text, DataLoader, ... as the data chapter defines them."""
    return exported_namespace("02_data")
