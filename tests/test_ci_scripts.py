""".ci/corpus, the step of .ci/run that makes the corpus available: from $CORPUS,
from ../shared, or downloaded, and never an unverified copy; where the tested site is
kept (keep_site); the check that the committed links name a real repository; what
the CI scripts leave alone (a contributor's .venv, a reader's notebooks in book/)."""

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from rnnbook.data import fetch_corpus

import set_repository
from book_tools import ROOT, keep_site, serving
from sync_exports import chapters

SHA256 = "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"


@pytest.fixture
def clone(tmp_path):
    """A checkout with .ci/ and no ../shared beside it, and an empty Keras cache."""
    repo = tmp_path / "clone"
    shutil.copytree(ROOT / ".ci", repo / ".ci")
    return repo, tmp_path / "keras"


def corpus_step(repo, keras_home, **env):
    """Run .ci/corpus in repo: (exit code, log). CORPUS and CORPUS_URL are only the
    ones given here, never this shell's."""
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("CORPUS", "CORPUS_URL")
    }
    result = subprocess.run(
        ["bash", ".ci/corpus"],
        cwd=repo,
        env={**inherited, "KERAS_HOME": str(keras_home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


def good_copy():
    return Path(fetch_corpus())  # the verified copy in Keras's cache


def test_corpus_from_the_path_in_CORPUS(clone):
    repo, keras_home = clone
    code, log = corpus_step(repo, keras_home, CORPUS=str(good_copy()))
    assert code == 0, log
    copied = keras_home / "datasets" / "nietzsche.txt"
    assert copied.read_bytes() == good_copy().read_bytes()
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


def test_CORPUS_wins_over_the_copy_in_shared(clone, tmp_path):
    """../shared holds a wrong copy here: had it been used, the step would fail."""
    repo, keras_home = clone
    shared = tmp_path / "shared" / "data" / "nietzsche.txt"
    shared.parent.mkdir(parents=True)
    shared.write_text("Supposing that Truth is a woman--what then?\n")
    code, log = corpus_step(repo, keras_home)
    assert code == 1 and "not the canonical" in log, log  # ../shared, when alone
    code, log = corpus_step(repo, keras_home, CORPUS=str(good_copy()))
    assert code == 0 and "from CORPUS" in log, log
    copied = keras_home / "datasets" / "nietzsche.txt"
    assert copied.read_bytes() == good_copy().read_bytes()


@pytest.fixture
def server(tmp_path):
    """A local web server for the folder it returns: (address of nietzsche.txt,
    folder). Stands in for the canonical address (CORPUS_URL)."""
    folder = tmp_path / "served"
    folder.mkdir()

    with serving(folder) as address:
        yield address + "nietzsche.txt", folder


def test_the_download_is_verified_and_installed(clone, server):
    repo, keras_home = clone
    url, folder = server
    shutil.copy(good_copy(), folder / "nietzsche.txt")
    code, log = corpus_step(repo, keras_home, CORPUS_URL=url)
    assert code == 0 and "downloaded" in log, log
    copied = keras_home / "datasets" / "nietzsche.txt"
    assert copied.read_bytes() == good_copy().read_bytes()


def test_a_bad_download_is_not_left_in_the_cache(clone, server):
    repo, keras_home = clone
    url, folder = server
    (folder / "nietzsche.txt").write_text("<html>Access denied</html>\n")
    code, log = corpus_step(repo, keras_home, CORPUS_URL=url)
    assert code == 1 and "not the canonical" in log and SHA256 in log, log
    assert not any((keras_home / "datasets").iterdir())  # nor a temporary file
    code, log = corpus_step(repo, keras_home, CORPUS_URL=url + ".gone")  # a 404
    assert code == 1 and "could not download" in log and "CORPUS=" in log, log
    assert not any((keras_home / "datasets").iterdir())


def test_the_checked_site_is_kept_where_the_workflow_deploys_it(built_site, tmp_path):
    _, _, html = built_site
    kept = keep_site(html, tmp_path / "site")
    assert (kept / "index.html").read_bytes() == (html / "index.html").read_bytes()
    if os.environ.get("RNN_BOOK_SITE"):  # .ci/run sets it: _build/html
        deployed = ROOT / os.environ["RNN_BOOK_SITE"]
        assert (deployed / "index.html").read_bytes() == kept.joinpath(
            "index.html"
        ).read_bytes()


@pytest.fixture
def site(tmp_path):
    """A built site to keep: one page."""
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("<p>the tested site</p>")
    return html


def test_the_site_copy_never_replaces_the_repository(site):
    for unsafe in (ROOT, ROOT.parent, ROOT / "book", "tests"):
        with pytest.raises(ValueError, match="RNN_BOOK_SITE.*_build/html"):
            keep_site(site, unsafe)
    assert (ROOT / "book" / "intro.md").is_file()
    assert Path(__file__).is_file()


def test_the_site_replaces_a_folder_under_build_only(site, tmp_path):
    repo = tmp_path / "repo"
    old = repo / "_build" / "html"
    old.mkdir(parents=True)
    (old / "stale.html").write_text("an earlier build")
    kept = keep_site(site, "_build/html", root=repo)  # relative: to the repository
    assert kept == old.resolve()
    assert sorted(p.name for p in kept.iterdir()) == ["index.html"]
    with pytest.raises(ValueError, match="neither a folder under"):
        keep_site(site, "_build", root=repo)  # under _build/, not _build/ itself
    notes = repo / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("a reader's file")
    with pytest.raises(ValueError, match="neither a folder under"):
        keep_site(site, notes, root=repo)
    assert (notes / "mine.txt").read_text() == "a reader's file"


def test_the_site_fills_a_new_or_empty_folder(site, tmp_path):
    new = tmp_path / "new" / "site"
    empty = tmp_path / "empty"
    empty.mkdir()
    for destination in (new, empty):
        kept = keep_site(site, destination)
        assert (kept / "index.html").read_text() == "<p>the tested site</p>"
    with pytest.raises(ValueError, match="RNN_BOOK_SITE"):
        keep_site(site, empty)  # now it holds a site: not replaced a second time
    a_file = tmp_path / "site.html"
    a_file.write_text("not a folder")
    with pytest.raises(ValueError, match="RNN_BOOK_SITE"):
        keep_site(site, a_file)


PLACEHOLDER_URL = f"https://github.com/{set_repository.PLACEHOLDER}"


@pytest.fixture
def committed_copy(tmp_path):
    """A git repository with the files set_repository.py rewrites, and a function
    that points them at a repository and commits them (run by hand in a fork)."""
    repo = tmp_path / "repo"
    (repo / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copy(ROOT / "book" / "intro.md", repo / "book" / "intro.md")
    for chapter in chapters():
        shutil.copy(chapter, repo / "book" / chapter.name)

    def git(*args):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    def commit(url):
        set_repository.set_repository(url, "main", root=repo)
        git("add", "-A")
        git(
            "-c",
            "user.name=CI",
            "-c",
            "user.email=ci@example.com",
            "commit",
            "-qm",
            url,
        )

    git("init", "-q")
    return repo, commit


def test_the_placeholder_repository_is_found_in_the_last_commit(committed_copy):
    repo, commit = committed_copy
    commit(PLACEHOLDER_URL)
    named = set_repository.placeholder_files(repo)
    assert named[:2] == ["_config.yml", "README.md"]
    assert {"book/05_sampling.ipynb", "book/07_inside_the_lstm.ipynb"} <= set(named)
    # what the Pages workflow does before .ci/run: the working tree alone changes
    set_repository.set_repository("https://github.com/me/fork", "main", root=repo)
    assert set_repository.placeholder_files(repo) == named


def test_a_fork_that_names_its_upstream_passes(committed_copy):
    repo, commit = committed_copy
    commit(PLACEHOLDER_URL)
    commit("https://github.com/upstream-owner/rnn-nietzsche")
    assert set_repository.placeholder_files(repo) == []


def test_the_placeholder_check_prints_the_command_that_fixes_it(
    committed_copy, monkeypatch, capsys
):
    repo, commit = committed_copy
    commit(PLACEHOLDER_URL)
    monkeypatch.setattr(set_repository, "ROOT", repo)
    monkeypatch.setenv("GITHUB_REPOSITORY", "me/fork")
    assert set_repository.main(["--check-placeholder"]) == 1
    fix = "python scripts/set_repository.py https://github.com/me/fork"
    assert fix in capsys.readouterr().out
    commit("https://github.com/me/fork")
    assert set_repository.main(["--check-placeholder"]) == 0


def load_root_conftest():
    """The repository's root conftest.py, as a module of its own name."""
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nbval_collects_the_chapters_of_the_toc_alone():
    """A reader's own notebook in book/ is never executed by the suite."""
    root = load_root_conftest()
    assert root.pytest_ignore_collect(ROOT / "book" / "Untitled.ipynb", None)
    for path in chapters():
        assert not root.pytest_ignore_collect(path, None), path.name
    assert root.pytest_ignore_collect(ROOT / "tests" / "test_lint.py", None) is None


def test_the_suite_has_its_own_checkpoint_folder():
    """Whatever RNN_BOOK_CHECKPOINTS a reader's shell exports, the suite sets its
    own, under its scratch folder (conftest.py)."""
    folder = Path(os.environ["RNN_BOOK_CHECKPOINTS"]).resolve()
    assert folder.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert "rnn-book-tests-" in str(folder)


def test_ci_never_touches_the_contributors_venv():
    """.ci/run builds and activates .venv-ci; the README's .venv (with JupyterLab
    added, say) is the contributor's own. Neither .ci/colab nor .ci/canary uses it."""
    for script in ("run", "colab", "canary"):
        lines = (ROOT / ".ci" / script).read_text().splitlines()
        text = "\n".join(x for x in lines if not x.lstrip().startswith("#"))
        assert not re.search(r"(^|[\s/])\.venv(/|\s|$)", text), script
    assert "python3 -m venv .venv-ci" in (ROOT / ".ci" / "run").read_text()
