"""The book builds without a single warning, and each chapter's Colab button opens its own notebook."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, sync_exports


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    log = result.stdout + result.stderr
    return result.returncode, log, out / "_build" / "html"


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
        expected = f"https://colab.research.google.com/github/{owner_repo}/blob/main/book/{notebook.name}"
        assert colab == {expected}, notebook.name


def test_intro_page_lists_the_chapters(built_site):
    _, _, html = built_site
    page = (html / "book" / "intro.html").read_text(encoding="utf-8")
    for notebook in sync_exports.chapters():
        assert f"{notebook.stem}.html" in page
