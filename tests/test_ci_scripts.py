""".ci/corpus, the step of .ci/run that makes the corpus available: from ../shared,
from $CORPUS, or downloaded, and never an unverified copy."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from book_tools import ROOT, keep_site

SHA256 = "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"


@pytest.fixture
def clone(tmp_path):
    """A checkout with .ci/ and no ../shared beside it, and an empty Keras cache."""
    repo = tmp_path / "clone"
    shutil.copytree(ROOT / ".ci", repo / ".ci")
    return repo, tmp_path / "keras"


def corpus_step(repo, keras_home, **env):
    result = subprocess.run(
        ["bash", ".ci/corpus"],
        cwd=repo,
        env={**os.environ, "KERAS_HOME": str(keras_home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def good_copy(data_code):
    return Path(data_code["fetch_corpus"]())  # the verified copy in Keras's cache


def test_corpus_from_the_path_in_CORPUS(clone, data_code):
    repo, keras_home = clone
    code, log = corpus_step(repo, keras_home, CORPUS=str(good_copy(data_code)))
    assert code == 0, log
    copied = keras_home / "datasets" / "nietzsche.txt"
    assert copied.read_bytes() == good_copy(data_code).read_bytes()
    code, log = corpus_step(repo, keras_home)  # a second run finds it verified
    assert code == 0 and "already" in log, log


def test_a_wrong_copy_is_refused_and_nothing_is_installed(clone, tmp_path):
    repo, keras_home = clone
    wrong = tmp_path / "nietzsche.txt"
    wrong.write_text("Supposing that Truth is a woman--what then?\n")
    code, log = corpus_step(repo, keras_home, CORPUS=str(wrong))
    assert code == 1 and "not the canonical" in log and SHA256 in log, log
    assert not (keras_home / "datasets" / "nietzsche.txt").exists()


def test_a_missing_CORPUS_file_is_named(clone, tmp_path):
    repo, keras_home = clone
    code, log = corpus_step(repo, keras_home, CORPUS=str(tmp_path / "nowhere.txt"))
    assert code == 1 and "nowhere.txt is not a file" in log, log


def test_the_checked_site_is_kept_where_the_workflow_deploys_it(built_site, tmp_path):
    _, _, html = built_site
    kept = keep_site(html, tmp_path / "site")
    assert (kept / "index.html").read_bytes() == (html / "index.html").read_bytes()
    if os.environ.get("RNN_BOOK_SITE"):  # .ci/run sets it: _build/html
        deployed = ROOT / os.environ["RNN_BOOK_SITE"]
        assert (deployed / "index.html").read_bytes() == kept.joinpath(
            "index.html"
        ).read_bytes()


def test_the_site_copy_never_replaces_the_repository(tmp_path):
    site = tmp_path / "html"
    site.mkdir()
    for unsafe in (ROOT, ROOT.parent, ROOT / "book"):
        with pytest.raises(ValueError, match="RNN_BOOK_SITE"):
            keep_site(site, unsafe)
    assert (ROOT / "book" / "intro.md").is_file()
