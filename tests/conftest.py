"""Fixtures for the tests in tests/: the book's notebooks and the code they export."""

import pytest

from book_tools import ROOT, build_book, exported_namespace, keep_site


@pytest.fixture(scope="session")
def data_code():
    """fetch_corpus, read_text, DataLoader, ... as the data chapter defines them."""
    return exported_namespace("02_data")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """Build the book once per run, as CI does: (return code, build log, HTML path).

    With RNN_BOOK_SITE set (.ci/run sets it), the built site is also copied
    there, to be deployed as it was checked."""
    returncode, log, html = build_book(ROOT, tmp_path_factory.mktemp("site"))
    if returncode == 0:
        keep_site(html)
    return returncode, log, html
