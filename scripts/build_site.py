#!/usr/bin/env python3
"""Build the book's site from the stored notebooks (nothing is executed).

    python scripts/build_site.py            # the site in _build/html
    python scripts/build_site.py --strict   # as the tests build it: warnings fail

The site is `jupyter-book build .` (Jupyter Book 1.x, _config.yml and _toc.yml). The
tests build it with this script's `build`, so that a reader, CI and the Pages
workflow all get the same site. `make book` runs this after setting up .venv.
"""

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(source=ROOT, out=None, strict=False):
    """Build the site of the book in `source` (default: this repository) into
    `out`/_build/html (default: source/_build/html). Returns (return code, build
    log, the HTML folder). strict: warnings fail the build, as in the tests."""
    source = Path(source)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(source)]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    if out is not None:
        command += ["--path-output", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    html = Path(out or source) / "_build" / "html"
    return result.returncode, result.stdout + result.stderr, html


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
