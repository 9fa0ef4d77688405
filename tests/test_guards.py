"""No script overwrites a committed file that changed since it read it: every one
writes through notebook_io's one changed-since-read guard (write_file,
write_notebook), which refuses and writes nothing when the file's bytes are no longer
the ones it read."""

import shutil
from pathlib import Path

import pytest

import landing_sample
import set_repository
from book_tools import ROOT
from notebook_io import (
    FileChanged,
    GuardedFile,
    check_unchanged,
    read_text,
    write_file,
)
from sync_exports import chapters


def test_write_file_refuses_a_file_changed_since_it_was_read(tmp_path):
    path = tmp_path / "page.md"
    path.write_text("as read\n")
    text, token = read_text(path)
    path.write_text("saved meanwhile in an editor\n")
    with pytest.raises(FileChanged, match="page.md changed on disk"):
        write_file(path, text + "more\n", token)
    assert path.read_text() == "saved meanwhile in an editor\n"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_write_file_refuses_a_file_that_appeared_since(tmp_path):
    path = tmp_path / "results.json"
    text, token = read_text(path)
    assert (text, token) == (None, None)
    path.write_text("someone else's\n")
    with pytest.raises(FileChanged):
        write_file(path, "mine\n", token)
    assert path.read_text() == "someone else's\n"
    path.unlink()
    write_file(path, "mine\n", token)
    assert path.read_text() == "mine\n"
    check_unchanged(path, read_text(path)[1])


@pytest.fixture
def repo(tmp_path):
    """The files set_repository.py and landing_sample.py rewrite, in a copy."""
    repo = tmp_path / "repo"
    (repo / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copy(ROOT / "book" / "intro.md", repo / "book" / "intro.md")
    for chapter in chapters():
        shutil.copy(chapter, repo / "book" / chapter.name)
    return repo


def snapshot(repo):
    return {p: p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


def test_set_repository_writes_nothing_when_a_file_was_saved_meanwhile(
    repo, monkeypatch
):
    """_config.yml saved in an editor while set_repository.py works: it stops
    before writing the README, _config.yml or any chapter."""
    table = set_repository.readme_with_table

    def edited_meanwhile(*args, **kwargs):
        config = repo / "_config.yml"
        config.write_text(config.read_text() + "# a contributor's edit\n")
        return table(*args, **kwargs)

    monkeypatch.setattr(set_repository, "readme_with_table", edited_meanwhile)
    with pytest.raises(FileChanged, match="_config.yml"):
        set_repository.set_repository("https://github.com/me/fork", "main", root=repo)
    after = snapshot(repo)
    assert after[repo / "_config.yml"].endswith(b"# a contributor's edit\n")
    assert after[repo / "README.md"] == (ROOT / "README.md").read_bytes()
    for chapter in chapters():
        assert after[repo / "book" / chapter.name] == chapter.read_bytes()


def test_landing_sample_keeps_an_edit_saved_meanwhile(repo, monkeypatch, capsys):
    page = repo / "book" / "intro.md"
    monkeypatch.setattr(landing_sample, "PAGE", page)
    monkeypatch.setattr(landing_sample, "CHAPTER", repo / "book" / "05_sampling.ipynb")
    reading = landing_sample.read_text

    def edited_meanwhile(path):
        found = reading(path)
        path.write_text(path.read_text() + "\nA contributor's sentence.\n")
        return found

    monkeypatch.setattr(landing_sample, "read_text", edited_meanwhile)
    assert landing_sample.main([]) == 1
    assert "intro.md changed on disk" in capsys.readouterr().err
    assert page.read_text().endswith("A contributor's sentence.\n")


def test_the_distributed_chapter_deletes_only_folders_it_made(tmp_path):
    """Chapter 8 re-creates its job and backup folders: it deletes one only if its
    marker file is inside, so a reader's folder of the same name is never lost."""
    from rnnbook.distributed import MADE_HERE, own_folder

    readers = tmp_path / "distributed_jobs" / "two_workers"
    readers.mkdir(parents=True)
    (readers / "notes.txt").write_text("mine\n")
    with pytest.raises(FileExistsError, match="did not make it"):
        own_folder(readers)
    assert (readers / "notes.txt").read_text() == "mine\n"

    made = own_folder(tmp_path / "distributed_jobs" / "one_worker")
    (made / "worker_0.log").write_text("a run\n")
    again = own_folder(made)
    assert again == made and sorted(p.name for p in made.iterdir()) == [MADE_HERE]


def test_the_recipes_benchmark_writes_the_committed_results_only_when_told(
    tmp_path, monkeypatch
):
    """benchmarks/recipes.py writes a new file by default; the committed,
    hash-pinned results/recipes.json only with --update, through the guard."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import recipes

    committed = ROOT / "benchmarks" / "results" / "recipes.json"
    default = recipes.parse([])
    assert Path(default.out).parent == ROOT / "benchmarks" / "runs"
    assert recipes.parse(["--update"]).out == str(committed)
    taken = tmp_path / "mine.json"
    taken.write_text("{}\n")
    with pytest.raises(SystemExit):
        recipes.parse(["--out", str(taken)])
    writer = GuardedFile(tmp_path / "new.json")
    writer.write("{}\n")
    writer.write('{"book": 1}\n')  # its own earlier write is no edit
    (tmp_path / "new.json").write_text('{"edited": true}\n')
    with pytest.raises(FileChanged):
        writer.write('{"book": 2}\n')
    assert (tmp_path / "new.json").read_text() == '{"edited": true}\n'
