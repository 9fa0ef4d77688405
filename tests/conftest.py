"""Fixtures for the tests in tests/: the book, built as CI builds it."""

import pytest

from book_tools import ROOT, build_book, keep_site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """Build the book once per run, as CI does: (return code, build log, HTML path).

    With RNN_BOOK_SITE set (.ci/run sets it), the built site is also copied
    there, to be deployed as it was checked."""
    returncode, log, html = build_book(ROOT, tmp_path_factory.mktemp("site"))
    if returncode == 0:
        keep_site(html)
    return returncode, log, html


def pytest_collection_modifyitems(config, items):
    """Tests that build the site (and the browser tests on it) are `slow`: `make
    test-fast` leaves them out."""
    for item in items:
        if "built_site" in getattr(item, "fixturenames", ()) or "site" in item.nodeid:
            item.add_marker(pytest.mark.slow)
