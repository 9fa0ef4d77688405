#!/usr/bin/env python3
"""Point the book's launch links at a GitHub repository.

The Colab and repository buttons of every rendered chapter follow `repository:` in
_config.yml (and, for the Chinese edition, zh/_config.yml), and the "Open in Colab"
badges of the README and of the Chinese edition's first page follow the same address,
and so does the address from which chapters 5, 6 and 7 download the published model
(PUBLISHED_URL, book/_static/model/ on the branch; in both editions). The
Pages workflow runs this with the repository it runs in, so the published book's
buttons are right in any fork with no hand edit:

    python scripts/set_repository.py https://github.com/OWNER/NAME --branch main
    python scripts/set_repository.py           # redo the README's table (new chapter)
    python scripts/set_repository.py --check   # README badges agree with _config.yml?
    python scripts/set_repository.py --check-placeholder  # committed for a real repo?

Run it once by hand in a new fork (and commit) to fix the README's badges too.
`--check-placeholder` (.ci/run runs it on GitHub Actions) fails while the last
commit's files still name the placeholder repository that the project ships with.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from notebook_io import (
    PUBLISHED_URL,
    FileChanged,
    check_unchanged,
    read_notebook,
    read_text,
    write_file,
    write_notebook,
)
from sync_exports import chapters

ROOT = Path(__file__).resolve().parent.parent

GITHUB_REPO = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+")
BRANCH = re.compile(r"[\w./-]+")
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
TABLE = re.compile(r"(<!-- chapters:start -->\n)(.*?)(<!-- chapters:end -->)", re.S)


def colab_url(url, branch, notebook):
    """Colab's address for a notebook (a path relative to the repository root)."""
    owner_repo = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{notebook}"


def repository(root=ROOT):
    """(url, branch) as _config.yml gives them."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"], config["repository"].get("branch", "main")


def edition_notebooks(root=ROOT, edition="en"):
    """The chapters of an edition: the English book's, or the Chinese edition's
    notebooks in zh/ (those of Part I that exist there)."""
    english = chapters(root / "book")
    if edition == "en":
        return english
    return [root / "zh" / p.name for p in english if (root / "zh" / p.name).is_file()]


def chapter_table(root=ROOT, where=None, edition="en"):
    """The chapter map of the README (edition "en") or of the Chinese edition's
    first page ("zh"): title, (notebook,) and a Colab link for each chapter, for the
    repository `where` = (url, branch), by default _config.yml's."""
    url, branch = where or repository(root)
    if edition == "en":
        rows = ["| Chapter | Notebook | Run it |", "| --- | --- | --- |"]
    else:
        rows = ["| 章 | 在 Colab 中运行 |", "| --- | --- |"]
    for path in edition_notebooks(root, edition):
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
        title = title.lstrip("# ")
        notebook = path.relative_to(root).as_posix()
        badge = f"[![Open in Colab]({BADGE})]({colab_url(url, branch, notebook)})"
        if edition == "en":
            if not title.startswith("Appendix"):  # appendices are not numbered
                title = f"{int(path.name[:2])}. {title}"
            rows.append(f"| {title} | [`{notebook}`]({notebook}) | {badge} |")
        else:  # a text link: the site loads no asset from the internet
            link = f"[在 Colab 中打开]({colab_url(url, branch, notebook)})"
            rows.append(f"| {{doc}}`{path.stem}` | {link} |")
    return "\n".join(rows) + "\n"


def published_url(url, branch):
    """The repository part of the address from which the published model is served:
    the branch's raw files (the form cell adds book/_static/model/)."""
    owner_repo = url.removeprefix("https://github.com/")
    return f"https://raw.githubusercontent.com/{owner_repo}/{branch}/"


def notebooks_with_url(root=ROOT, where=None):
    """{path: (notebook, token)} of the chapters (of both editions: the Chinese
    notebooks' code is the English's, byte for byte) whose PUBLISHED_URL differs from
    `where`'s, each notebook with its PUBLISHED_URL rewritten and the token that
    notebook_io.write_notebook checks before writing it back."""
    target = published_url(*(where or repository(root)))
    changed = {}
    for path in edition_notebooks(root) + edition_notebooks(root, "zh"):
        nb, token = read_notebook(path)
        edited = False
        for cell in nb.cells:
            if cell.cell_type == "code" and PUBLISHED_URL.search(cell.source):
                new = PUBLISHED_URL.sub(
                    lambda m: f'{m.group(1)}"{target}"', cell.source
                )
                edited |= new != cell.source
                cell.source = new
        if edited:
            changed[path] = nb, token
    return changed


def readme_with_table(root=ROOT, where=None, readme=None):
    readme = readme or (root / "README.md").read_text(encoding="utf-8")
    if not TABLE.search(readme):
        raise LookupError("README.md has no <!-- chapters:start/end --> block")
    table = chapter_table(root, where)
    return TABLE.sub(lambda m: m.group(1) + table + m.group(3), readme)


ZH_INTRO = Path("zh") / "intro.md"
ZH_CONFIG = Path("zh") / "_config.yml"


def zh_intro_with_table(root=ROOT, where=None, text=None):
    """The Chinese edition's first page with its chapter map for `where`."""
    text = text or (root / ZH_INTRO).read_text(encoding="utf-8")
    if not TABLE.search(text):
        raise LookupError(f"{ZH_INTRO} has no <!-- chapters:start/end --> block")
    table = chapter_table(root, where, "zh")
    return TABLE.sub(lambda m: m.group(1) + table + m.group(3), text)


def config_with_repository(config, url, branch, name="_config.yml"):
    """A _config.yml's text with `repository:` url and branch set."""
    block = re.search(r"^repository:\n((?:[ \t]+.*\n)+)", config, re.M)
    if not block:
        raise LookupError(f"{name} has no `repository:` section")
    body = re.sub(r"^(\s+url:).*$", rf"\1 {url}", block.group(1), flags=re.M)
    body = re.sub(r"^(\s+branch:).*$", rf"\1 {branch}", body, flags=re.M)
    config = config[: block.start(1)] + body + config[block.end(1) :]
    parsed = yaml.safe_load(config)["repository"]
    if (parsed.get("url"), parsed.get("branch", "main")) != (url, branch):
        raise LookupError(
            f"{name}'s repository section has an unexpected form (want `url:` and "
            "`branch:` lines under `repository:`); nothing was changed"
        )
    return config


def set_repository(url, branch, root=ROOT):
    """Rewrite `repository:` url and branch in _config.yml, then the README table and
    PUBLISHED_URL in the chapters; nothing when a chapter changed on disk since it was
    read (FileChanged). Every file goes through notebook_io's changed-since-read
    guard: one saved meanwhile in an editor stops the run before anything is
    written."""
    if not GITHUB_REPO.fullmatch(url):
        raise ValueError(
            f"{url!r} is not a GitHub repository address; "
            "give one like https://github.com/OWNER/NAME"
        )
    if not BRANCH.fullmatch(branch):
        raise ValueError(f"{branch!r} is not a branch name")
    texts = {}  # path: (new text, token as read)
    config_path = root / "_config.yml"
    config, token = read_text(config_path)
    texts[config_path] = config_with_repository(config, url, branch), token
    readme_path = root / "README.md"
    readme, token = read_text(readme_path)
    texts[readme_path] = readme_with_table(root, (url, branch), readme), token
    if (root / ZH_CONFIG).is_file():  # the Chinese edition, in step with the English
        zh_config, token = read_text(root / ZH_CONFIG)
        zh_config = config_with_repository(zh_config, url, branch, str(ZH_CONFIG))
        texts[root / ZH_CONFIG] = zh_config, token
        intro, token = read_text(root / ZH_INTRO)
        texts[root / ZH_INTRO] = zh_intro_with_table(root, (url, branch), intro), token
    notebooks = notebooks_with_url(root, (url, branch))
    tokens = {path: token for path, (_, token) in texts.items()}
    tokens.update((path, token) for path, (_, token) in notebooks.items())
    for path, token in tokens.items():
        check_unchanged(path, token)  # an edit saved meanwhile: write nothing
    for path, (text, token) in texts.items():
        write_file(path, text, token)
    for path, (nb, token) in notebooks.items():
        write_notebook(path, nb, token)  # refuses if edited since it was read


# The repository that the committed files name until a fork sets its own.
PLACEHOLDER = "your-github-user/rnn-nietzsche"


def committed(relative, root=ROOT):
    """The text of a file (a path relative to root) in the last commit, or None when
    the last commit has no such file."""
    # safe.directory: in a CI container the checkout belongs to another user, and
    # git refuses to read a repository of another user's without it.
    git = ["git", "-c", f"safe.directory={root}", "-C", str(root)]
    head = subprocess.run(
        [*git, "rev-parse", "--verify", "--quiet", "HEAD"], capture_output=True
    )
    if head.returncode != 0:
        raise LookupError(f"{root} is not a git repository with a commit")
    shown = subprocess.run(
        [*git, "show", f"HEAD:./{relative}"], capture_output=True, text=True
    )
    return shown.stdout if shown.returncode == 0 else None


def placeholder_files(root=ROOT):
    """The files that set_repository rewrites whose last committed version still
    names the PLACEHOLDER repository: `repository:` in _config.yml, the README's
    chapter table, PUBLISHED_URL in the chapters. Other mentions (prose that
    explains the placeholder) do not count; another real repository (a fork's
    upstream) passes."""
    named = []
    config = committed("_config.yml", root)
    if config and PLACEHOLDER in yaml.safe_load(config)["repository"]["url"]:
        named.append("_config.yml")
    for page in ("README.md", ZH_INTRO.as_posix()):
        table = TABLE.search(committed(page, root) or "")
        if table and PLACEHOLDER in table.group(2):
            named.append(page)
    zh_config = committed(ZH_CONFIG.as_posix(), root)
    if zh_config and PLACEHOLDER in yaml.safe_load(zh_config)["repository"]["url"]:
        named.append(ZH_CONFIG.as_posix())
    for path in edition_notebooks(root) + edition_notebooks(root, "zh"):
        relative = path.relative_to(root).as_posix()
        text = committed(relative, root)
        if text is None:
            continue  # not committed yet: nothing of it is published
        cells = nbformat.reads(text, as_version=4).cells
        addresses = [
            m.group(0)
            for cell in cells
            if cell.cell_type == "code"
            for m in PUBLISHED_URL.finditer(cell.source)
        ]
        if any(PLACEHOLDER in address for address in addresses):
            named.append(relative)
    return named


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "url", nargs="?", help="https://github.com/OWNER/NAME (default: _config.yml's)"
    )
    parser.add_argument("--branch", default="main", help="branch (default: main)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the README's table or PUBLISHED_URL lag behind _config.yml",
    )
    parser.add_argument(
        "--check-placeholder",
        action="store_true",
        help=f"exit 1 if the last commit's files still name {PLACEHOLDER}",
    )
    args = parser.parse_args(argv)
    if args.check_placeholder:
        try:
            named = placeholder_files(ROOT)
        except LookupError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if named:
            owner_repo = os.environ.get("GITHUB_REPOSITORY") or "OWNER/NAME"
            print(
                f"The last commit's {', '.join(named)} still name the placeholder "
                f"repository {PLACEHOLDER}: the README's Colab badges, and the "
                "notebooks opened from GitHub, point at a repository that does not "
                "exist. Point them at this repository once, and commit the files "
                "that this changes:\n\n"
                f"    python scripts/set_repository.py https://github.com/{owner_repo}"
            )
            return 1
        print("The committed files name a real repository, not the placeholder.")
        return 0
    if args.check:
        current = (ROOT / "README.md").read_text(encoding="utf-8")
        if current != readme_with_table():
            print("README.md's chapter table is stale: run scripts/set_repository.py")
            return 1
        zh_intro = ROOT / ZH_INTRO
        if zh_intro.is_file():
            if zh_intro.read_text(encoding="utf-8") != zh_intro_with_table():
                print(f"{ZH_INTRO}'s chapter table is stale: run set_repository.py")
                return 1
        stale = notebooks_with_url()
        if stale:
            names = ", ".join(path.name for path in stale)
            print(f"PUBLISHED_URL is stale in {names}: run scripts/set_repository.py")
            return 1
        print("The README's chapter table and PUBLISHED_URL follow _config.yml.")
        return 0
    url, branch = (args.url.rstrip("/"), args.branch) if args.url else repository()
    try:
        set_repository(url, branch)
    except (ValueError, LookupError, FileChanged) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"launch links point to {url} (branch {branch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
