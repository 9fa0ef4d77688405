#!/usr/bin/env python3
"""Build the book's site from the stored notebooks (nothing is executed): the English
edition, and the Chinese edition of Part I in its zh/ folder.

    python scripts/build_site.py            # the site in _build/html
    python scripts/build_site.py --strict   # as the tests build it: warnings fail

Each edition is a Jupyter Book 1.x of its own: `jupyter-book build .` (_config.yml,
_toc.yml) and `jupyter-book build zh` (zh/_config.yml, zh/_toc.yml), whose site is
copied into the English one's zh/ folder, so that both are served together and each
page links to its twin (book/_ext/editions.py). The tests build the site with this
script's `build`, so that a reader, CI and the Pages workflow all get the same site.
`make book` runs this after setting up .venv.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def jupyter_book(source, out, strict):
    """`jupyter-book build source` into out/_build/html: (return code, log)."""
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(source),
    ]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    command += ["--path-output", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def build(source=ROOT, out=None, strict=False):
    """Build both editions of the book in `source` (default: this repository) into
    `out`/_build/html (default: source/_build/html), the Chinese one in its zh/
    folder. Returns (return code, build log, the HTML folder). strict: warnings fail
    the build, as in the tests."""
    source = Path(source)
    out = Path(out or source)
    returncode, log = jupyter_book(source, out, strict)
    html = out / "_build" / "html"
    zh = source / "zh"
    if returncode == 0 and (zh / "_config.yml").is_file():
        zh_out = out / "_build" / "zh-edition"
        code, zh_log = jupyter_book(zh, zh_out, strict)
        returncode, log = (
            code,
            log + "\n----- the Chinese edition (zh/) -----\n" + zh_log,
        )
        if code == 0:
            target = html / "zh"
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(zh_out / "_build" / "html", target)
    return returncode, log, html


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail")
    args = parser.parse_args(argv)
    returncode, log, html = build(strict=args.strict)
    if returncode != 0:
        print(log[-5000:])
        print("error: the site did not build (the log's end is above)")
        return returncode
    print(f"The book is built. Open it in a browser: {html / 'index.html'}")
    print(f"The Chinese edition of Part I (中文版): {html / 'zh' / 'intro.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
