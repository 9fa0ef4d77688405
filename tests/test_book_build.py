"""The book builds without a warning, and its launch links open the right notebook."""

import re
import shutil

import nbformat
import pytest

import set_repository
from book_tools import ROOT, build_book, sync_exports

COLAB_LINK = re.compile(r'href="(https://colab\.research\.google\.com/[^"]+)"')


def test_build_is_warning_free(built_site):
    returncode, log, _ = built_site
    warnings = [
        line for line in log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)
    ]
    assert returncode == 0 and not warnings, "\n".join(warnings) or log[-3000:]


def test_every_chapter_has_its_colab_button(built_site):
    _, _, html = built_site
    url, branch = set_repository.repository()
    for notebook in sync_exports.chapters():
        page = (html / "book" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        expected = set_repository.colab_url(url, branch, f"book/{notebook.name}")
        assert colab_links(page) == {expected}, notebook.name


def test_every_chinese_chapter_has_its_colab_button(built_site):
    """The Chinese pages open the Chinese notebooks, zh/NN_name.ipynb, in Colab."""
    _, _, html = built_site
    url, branch = set_repository.repository()
    chinese = sorted((ROOT / "zh").glob("[0-9][0-9]_*.ipynb"))
    assert len(chinese) == 5
    for notebook in chinese:
        page = (html / "zh" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        expected = set_repository.colab_url(url, branch, f"zh/{notebook.name}")
        assert colab_links(page) == {expected}, notebook.name


def test_intro_page_lists_the_chapters(built_site):
    _, _, html = built_site
    page = (html / "book" / "intro.html").read_text(encoding="utf-8")
    for notebook in sync_exports.chapters():
        assert f"{notebook.stem}.html" in page


def colab_links(html_page):
    return set(COLAB_LINK.findall(html_page))


@pytest.mark.slow
def test_launch_links_follow_the_repository_the_book_is_built_for(tmp_path):
    """What the Pages workflow does: set_repository.py with the workflow's repository,
    then a build. Every Colab link on every page must then point there."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("_config.yml", "_toc.yml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "book", source / "book", ignore=shutil.ignore_patterns("checkpoints*")
    )
    url, branch = "https://github.com/another-owner/another.repo", "trunk"
    set_repository.set_repository(url, branch, root=source)
    returncode, log, html = build_book(source, tmp_path / "out")
    assert returncode == 0, log[-3000:]

    well_formed = re.compile(
        r"https://colab\.research\.google\.com/github/another-owner/another\.repo"
        r"/blob/trunk/book/(\d\d_[a-z0-9_]+)\.ipynb"
    )
    for page in sorted(html.rglob("*.html")):
        page_text = page.read_text(encoding="utf-8")
        for link in colab_links(page_text):
            match = well_formed.fullmatch(link)
            assert match, f"{page.relative_to(html)}: Colab link {link}"
            assert match.group(1) == page.stem, f"{page.name} opens {link}"
        if page.stem[:2].isdigit():
            assert colab_links(page_text), f"{page.name} has no Colab link"
            assert f'href="{url}"' in page_text, f"{page.name}: no repository button"
    model = "https://raw.githubusercontent.com/another-owner/another.repo/trunk/"
    for name in (
        "05_sampling",
        "06_training_engineered",
        "07_inside_the_lstm",
    ):  # where the published model is
        cells = nbformat.read(source / "book" / f"{name}.ipynb", as_version=4).cells
        sources = "\n".join(cell.source for cell in cells)
        assert f'PUBLISHED_URL = (\n    "{model}"' in sources, name
    readme = (source / "README.md").read_text(encoding="utf-8")
    for notebook in sync_exports.chapters():
        expected = set_repository.colab_url(url, branch, f"book/{notebook.name}")
        assert expected in readme, f"README badge for {notebook.name}"


def test_readme_has_a_colab_badge_per_chapter():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == set_repository.readme_with_table(), (
        "README.md's chapter table is stale: run scripts/set_repository.py"
    )
    url, branch = set_repository.repository()
    for notebook in sync_exports.chapters():
        path = f"book/{notebook.name}"
        assert f"({set_repository.colab_url(url, branch, path)})" in readme, path


@pytest.mark.parametrize(
    "url", ["github.com/o/r", "https://gitlab.com/o/r", "https://github.com/o"]
)
def test_set_repository_refuses_an_address_that_is_not_a_repository(tmp_path, url):
    with pytest.raises(ValueError, match="not a GitHub repository"):
        set_repository.set_repository(url, "main", root=tmp_path)


def test_set_repository_writes_nothing_until_both_files_are_ready(tmp_path):
    config = "repository:\n  url: https://github.com/a/b\n  branch: main\n"
    (tmp_path / "_config.yml").write_text(config)
    (tmp_path / "README.md").write_text("A README without the chapter table.\n")
    with pytest.raises(LookupError, match="chapters:start"):
        set_repository.set_repository("https://github.com/o/r", "main", root=tmp_path)
    assert (tmp_path / "_config.yml").read_text() == config
