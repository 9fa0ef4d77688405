"""The Chinese edition of Part I stays in step with the English: its notebooks are the
English ones with the prose translated (code, outputs and metadata byte for byte the
English), and a test names every English cell whose translation is missing or out of
date, with the command that shows what changed."""

import json
import re
import shutil

import nbformat
import pytest
import yaml

import translations
from book_tools import ROOT

PART_ONE = translations.part_one()
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_english_cell_has_a_current_translation():
    problems = translations.problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("english", PART_ONE, ids=lambda p: p.stem)
def test_the_chinese_notebook_is_the_english_one_with_translated_prose(english):
    zh = translations.chinese_notebook(english)
    en_nb = json.loads(english.read_text(encoding="utf-8"))
    zh_nb = json.loads(zh.read_text(encoding="utf-8"))
    assert zh_nb["metadata"] == en_nb["metadata"], "the notebook's metadata"
    assert len(zh_nb["cells"]) == len(en_nb["cells"])
    for i, (en, cn) in enumerate(zip(en_nb["cells"], zh_nb["cells"])):
        assert (cn["id"], cn["cell_type"]) == (en["id"], en["cell_type"]), i
        if en["cell_type"] == "code":  # source, outputs, metadata, count: byte for byte
            dumped = [
                json.dumps(c, sort_keys=True, ensure_ascii=False) for c in (en, cn)
            ]
            assert dumped[0] == dumped[1], f"{zh.name}: code cell {i} differs"
        else:
            assert cn["metadata"] == en["metadata"], f"{zh.name}: cell {i}'s metadata"


@pytest.mark.parametrize("english", PART_ONE, ids=lambda p: p.stem)
def test_the_prose_is_chinese(english):
    """Every translated cell with words in it is written in Chinese (math, code and
    printed output stay as they are)."""
    entries = translations.load(translations.translation_file(english))
    for cell_id, entry in entries.items():
        words = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|```.*?```|<[^>]+>", " ",
                       entry["en"], flags=re.S)  # fmt: skip
        if len(re.findall(r"[A-Za-z]{3,}", words)) >= 3:
            assert CJK.search(entry["zh"]), f"{english.stem} {cell_id}: not translated"


@pytest.fixture
def copy_of_the_book(tmp_path, monkeypatch):
    """The book's English chapters, translation files and Chinese notebooks, in a copy
    that the translations module works on."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_*"))
    shutil.copytree(ROOT / "zh", root / "zh", ignore=shutil.ignore_patterns("_build"))
    shutil.copy(ROOT / "_toc.yml", root / "_toc.yml")
    monkeypatch.setattr(translations, "ROOT", root)
    monkeypatch.setattr(translations, "ZH", root / "zh")
    monkeypatch.setattr(translations, "TRANSLATIONS", root / "zh" / "translations")
    return root


def test_a_changed_english_cell_is_named_until_its_translation_is_updated(
    copy_of_the_book, capsys
):
    root = copy_of_the_book
    english = root / "book" / "03_model.ipynb"
    nb = nbformat.read(english, as_version=4)
    cell = next(
        c for c in nb.cells if c.cell_type == "markdown" and c.id != nb.cells[0].id
    )
    cell.source += "\n\nA sentence added in English."
    nbformat.write(nb, english)

    found = translations.problems(root, root / "zh")
    assert len(found) == 1, found
    assert cell.id in found[0] and "the English changed" in found[0]
    assert f"python scripts/translations.py diff 03_model {cell.id}" in found[0]
    assert "+A sentence added in English." in translations.diff("03_model", cell.id)
    before = (root / "zh" / "03_model.ipynb").read_bytes()
    written, stale = translations.sync(root, root / "zh")
    assert written == [] and stale == found  # the last good Chinese notebook is kept
    assert (root / "zh" / "03_model.ipynb").read_bytes() == before

    path = translations.translation_file(english)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["cells"][cell.id]["zh"] += "\n\n用英文加的一句话。"
    path.write_text(translations.dump(english, data["cells"]), encoding="utf-8")
    translations.accept("03_model", cell.id)
    assert translations.problems(root, root / "zh") == [
        "zh/03_model.ipynb is stale: run " + translations.COMMAND
    ]
    written, stale = translations.sync(root, root / "zh")
    assert written == [root / "zh" / "03_model.ipynb"] and stale == []
    assert translations.problems(root, root / "zh") == []
    zh = nbformat.read(root / "zh" / "03_model.ipynb", as_version=4)
    assert next(c for c in zh.cells if c.id == cell.id).source.endswith("一句话。")


def test_a_new_english_cell_needs_a_translation(copy_of_the_book):
    root = copy_of_the_book
    english = root / "book" / "02_data.ipynb"
    nb = nbformat.read(english, as_version=4)
    added = nbformat.v4.new_markdown_cell("A new paragraph.")
    nb.cells.insert(2, added)
    nbformat.write(nb, english)
    found = translations.problems(root, root / "zh")
    assert any(added.id in line and "has no translation" in line for line in found)
    translations.new("02_data")
    found = translations.problems(root, root / "zh")
    assert any(added.id in line and "not translated yet" in line for line in found)


def test_set_repository_keeps_both_editions_in_step(tmp_path):
    """A fork points both editions at itself: zh/_config.yml, the Chinese chapter
    table, and PUBLISHED_URL in the Chinese notebooks as in the English ones (their
    code stays byte for byte the English's)."""
    import set_repository

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "book", repo / "book", ignore=shutil.ignore_patterns("_*"))
    shutil.copytree(ROOT / "zh", repo / "zh", ignore=shutil.ignore_patterns("_build"))
    for name in ("_config.yml", "_toc.yml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    url = "https://github.com/someone/fork"
    set_repository.set_repository(url, "trunk", root=repo)
    zh_config = yaml.safe_load(
        (repo / "zh" / "_config.yml").read_text(encoding="utf-8")
    )
    assert zh_config["repository"]["url"] == url
    assert zh_config["repository"]["branch"] == "trunk"
    intro = (repo / "zh" / "intro.md").read_text(encoding="utf-8")
    assert "github/someone/fork/blob/trunk/zh/01_how_rnns_work.ipynb" in intro
    for english in PART_ONE:
        en = json.loads((repo / "book" / english.name).read_text(encoding="utf-8"))
        zh = json.loads((repo / "zh" / english.name).read_text(encoding="utf-8"))
        en_code = [c["source"] for c in en["cells"] if c["cell_type"] == "code"]
        zh_code = [c["source"] for c in zh["cells"] if c["cell_type"] == "code"]
        assert en_code == zh_code, english.name
