#!/usr/bin/env python3
"""Copy a generated sample from chapter 5's stored outputs onto the landing page.

The landing page (book/intro.md) shows real output of the committed run: the text
generated at temperature 0.5 in book/05_sampling.ipynb. After re-executing that chapter,
run

python scripts/landing_sample.py          # rewrite the sample in book/intro.md
python scripts/landing_sample.py --check  # exit 1 if the page shows another text

"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

from notebook_io import FileChanged, read_text, write_file

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "05_sampling.ipynb"
PAGE = ROOT / "book" / "intro.md"
MARKER = "----- T = 0.5 -----\n"
BLOCK = re.compile(
    r"(<!-- sample:start -->\n```text\n)(.*?)(\n```\n<!-- sample:end -->)", re.S
)


def sample_from_chapter(path=CHAPTER):
    """The first text generated at temperature 0.5 in the chapter's stored outputs
    (printed, or the plain-text form of the side-by-side samples)."""
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") or out.get("data", {}).get("text/plain", "")
            if MARKER in text:
                return text.split(MARKER, 1)[1].split("\n-----", 1)[0].strip("\n")
    raise LookupError(
        f"{path.name} stores no output with {MARKER.strip()!r}: execute it first"
    )


def sample_on_page(path=PAGE):
    match = BLOCK.search(path.read_text(encoding="utf-8"))
    if not match:
        raise LookupError(
            f"{path.name} has no sample block between <!-- sample:start/end --> markers"
        )
    return match.group(2)


def same_text(a, b):
    """The page shows the sample as printed (the site's CSS wraps long lines)."""
    return a == b


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    sample = sample_from_chapter()
    if args.check:
        same = same_text(sample_on_page(), sample)
        print(
            "The landing page shows chapter 5's sample."
            if same
            else "The landing page's sample is stale."
        )
        return 0 if same else 1
    page, token = read_text(PAGE)
    try:
        write_file(
            PAGE, BLOCK.sub(lambda m: m.group(1) + sample + m.group(3), page), token
        )
    except FileChanged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"updated {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
