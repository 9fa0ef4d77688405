"""Read a notebook, and write it back only if nobody changed it in the meantime.

The scripts that rewrite the chapters (run_notebooks.py, set_repository.py,
sync_exports.py) read a notebook and write it back later, minutes later when they
execute it. A reader may have saved an edit in Jupyter meanwhile; writing over it
would lose that edit without a word. So the scripts read through `read_notebook`,
which also returns a token (the sha256 of the file's bytes as read), and write
through `write_notebook`, which refuses with `NotebookChanged` when the file's bytes
are no longer the ones the token names:

    nb, token = read_notebook(path)
    ...  # minutes of work on nb
    write_notebook(path, nb, token)  # raises NotebookChanged if path was edited

The write is atomic: the notebook goes to a temporary file in the same folder, which
then replaces the original (os.replace), so that a reader never sees half a file.

`code_hash` fingerprints a notebook's code: run_notebooks.py stores it in the stamp
of every notebook it executes, and a test checks that the stored outputs come from
the code that is stored beside them.
"""

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import nbformat


class NotebookChanged(RuntimeError):
    """The notebook on disk is no longer the one that was read: nothing was written."""


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_notebook(path):
    """(notebook, token): the notebook at path (nbformat 4) and the sha256 of the
    bytes it was read from, which `write_notebook` checks before writing."""
    data = Path(path).read_bytes()
    return nbformat.reads(data.decode("utf-8"), as_version=4), _sha256(data)


def check_unchanged(path, token):
    """Raise NotebookChanged unless path still holds the bytes that token (from
    `read_notebook`) names. A script that writes several files calls this for each
    notebook first, so that it writes none of them when one was edited."""
    path = Path(path)
    try:
        current = _sha256(path.read_bytes())
    except FileNotFoundError:
        current = None
    if current != token:
        raise NotebookChanged(
            f"{path} changed on disk since this script read it (an edit saved from "
            "Jupyter or another editor?). It was left as it is, and this script's "
            "result for it was not written. Keep or discard that edit, close the "
            "notebook in the editor (its autosave would write over the result), "
            "then run the script again for this notebook."
        )


def write_notebook(path, notebook, token):
    """Write notebook to path, atomically, if path still holds the bytes that token
    (from `read_notebook`) names; otherwise raise NotebookChanged and leave it as it
    is. The text is nbformat's, as `nbformat.write` writes it."""
    path = Path(path)
    text = nbformat.writes(notebook)
    if not text.endswith("\n"):
        text += "\n"
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        check_unchanged(path, token)  # last, just before the replacement
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


# The form cell of chapters 5 and 6 gives the address of the published model on a
# line of its own, PUBLISHED_URL = (\n    "https://raw.githubusercontent.com/OWNER/
# NAME/BRANCH/"\n ...; set_repository.py points it at each fork's repository.
PUBLISHED_URL = re.compile(
    r'^(PUBLISHED_URL = \(\n\s*)"https://raw\.githubusercontent\.com/[^"]*"', re.M
)


def code_hash(notebook):
    """The sha256 of a notebook's code: the source of every code cell, in order, as a
    JSON list of strings (UTF-8, no whitespace, non-ASCII kept). Markdown, outputs
    and metadata do not count, and neither does the repository in PUBLISHED_URL:
    set_repository.py rewrites it in every fork (and the Pages workflow in every
    run), which must not make the stored outputs stale. Takes an nbformat notebook
    or the JSON as a dict (where a source may be a list of lines)."""
    sources = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            source = source if isinstance(source, str) else "".join(source)
            sources.append(PUBLISHED_URL.sub(r'\1"OWNER/NAME/BRANCH"', source))
    encoded = json.dumps(sources, ensure_ascii=False, separators=(",", ":"))
    return _sha256(encoded.encode("utf-8"))
