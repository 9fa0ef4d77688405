"""Serve MathJax from the book itself, so its math renders with no internet.

Sphinx loads MathJax from a CDN by default. `_config.yml` points `mathjax_path` at
`_static/mathjax/tex-mml-chtml.js` instead, and this extension puts MathJax 3 there: it
copies the files that this combined component loads (itself, its CHTML fonts, the TeX
extensions it autoloads, the menu and the accessibility tools behind it) from the copy
of MathJax 3.2.2 that the PyPI package `sphinx-mathjax-offline` ships (pinned in
requirements.txt). Only its files are used, not its own Sphinx hook, which would copy
all 24 MB and pick another component.
"""

import shutil
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from sphinx.errors import ExtensionError

DISTRIBUTION = "sphinx-mathjax-offline"
COMPONENT = "tex-mml-chtml.js"
TARGET = "mathjax"  # under _static/


def mathjax_source():
    """The folder of the vendored MathJax 3 (es5 build) inside the installed package."""
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        raise ExtensionError(
            f"{DISTRIBUTION} is not installed: run `pip install -r requirements.txt`"
        ) from None
    source = Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))
    if not (source / COMPONENT).is_file():
        raise ExtensionError(f"{DISTRIBUTION} has no {COMPONENT} under {source}")
    return source


def _not_needed(folder, names):
    """copytree filter: the other combined components, the SVG output and Node-only
    code.
    """
    skip = set()
    if Path(folder) == mathjax_source():
        skip |= {n for n in names if n.endswith(".js") and n != COMPONENT}
        skip |= {"adaptors"}  # liteDOM, for MathJax under Node
    if Path(folder).name == "output":
        skip |= {"svg", "svg.js"}
    return skip


def check_config(app, config):
    if config.mathjax_path != f"{TARGET}/{COMPONENT}":
        raise ExtensionError(
            f"mathjax_offline: set `mathjax_path: {TARGET}/{COMPONENT}` under "
            f"sphinx.config in _config.yml (it is {config.mathjax_path!r})"
        )
    mathjax_source()  # fail early, before any page is written, if it is missing


def copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / TARGET
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(mathjax_source(), target, ignore=_not_needed)


def setup(app):
    app.connect("config-inited", check_config)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
