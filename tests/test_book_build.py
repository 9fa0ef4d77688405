"""The book builds without a single warning, and each chapter's Colab button opens its own notebook."""

import re

import yaml

from conftest import ROOT, sync_exports


def test_build_is_warning_free(built_site):
    returncode, log, _ = built_site
    warnings = [line for line in log.splitlines() if re.search(r"\bWARNING\b|\bERROR\b", line)]
    assert returncode == 0 and not warnings, "\n".join(warnings) or log[-3000:]


def test_every_chapter_has_its_colab_button(built_site):
    _, _, html = built_site
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    owner_repo = config["repository"]["url"].removeprefix("https://github.com/")
    assert config["repository"]["branch"] == "main"
    for notebook in sync_exports.chapters():
        page = (html / "book" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        colab = set(re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page))
        expected = (
            f"https://colab.research.google.com/github/{owner_repo}/blob/main/book/{notebook.name}"
        )
        assert colab == {expected}, notebook.name


def test_intro_page_lists_the_chapters(built_site):
    _, _, html = built_site
    page = (html / "book" / "intro.html").read_text(encoding="utf-8")
    for notebook in sync_exports.chapters():
        assert f"{notebook.stem}.html" in page
