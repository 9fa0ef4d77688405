"""Read a file, and write it back only if nobody changed it in the meantime.

The scripts that rewrite committed files (run_notebooks.py, set_repository.py,
sync_exports.py, landing_sample.py, translations.py, export_model.py, the benchmarks'
results) read a file and write it back later, minutes later when they execute a
notebook. A reader may have saved an edit in Jupyter or an editor meanwhile; writing
over it would lose that edit without a word. So the scripts read through
`read_notebook` (or `read_text`, `read_file`), which also returns a token (the sha256
of the file's bytes as read), and write through `write_notebook` (or `write_file`),
which refuses with `FileChanged` when the file's bytes are no longer the ones the
token names:

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


class FileChanged(RuntimeError):
    """The file on disk is no longer the one that was read: nothing was written."""


NotebookChanged = FileChanged  # the name the notebook scripts have always caught


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_file(path):
    """(bytes, token): the file's bytes and the token that `write_file` checks
    before writing; (None, None) when there is no file (write_file then refuses to
    write over one that appeared meanwhile)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, None
    return data, _sha256(data)


def read_text(path):
    """(text, token) of a UTF-8 file, as `read_file`; (None, None) if it is missing."""
    data, token = read_file(path)
    return (None if data is None else data.decode("utf-8")), token


def read_notebook(path):
    """(notebook, token): the notebook at path (nbformat 4) and the sha256 of the
    bytes it was read from, which `write_notebook` checks before writing."""
    data, token = read_file(path)
    if data is None:
        raise FileNotFoundError(path)
    return nbformat.reads(data.decode("utf-8"), as_version=4), token


def check_unchanged(path, token):
    """Raise FileChanged unless path still holds the bytes that token (from
    `read_file`, `read_text` or `read_notebook`) names; a token of None means that
    there was no file. A script that writes several files calls this for each file
    first, so that it writes none of them when one was edited."""
    path = Path(path)
    try:
        current = _sha256(path.read_bytes())
    except FileNotFoundError:
        current = None
    if current != token:
        raise FileChanged(
            f"{path} changed on disk since this script read it (an edit saved from "
            "Jupyter or another editor?). It was left as it is, and this script's "
            "result for it was not written. Keep or discard that edit, close the "
            "file in the editor (its autosave would write over the result), "
            "then run the script again."
        )


def write_file(path, data, token):
    """Write data (bytes, or text as UTF-8) to path, atomically, if path still
    holds the bytes that token names (None: if there is still no file); otherwise
    raise FileChanged and leave it as it is. Every script that rewrites a committed
    file writes through here."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        check_unchanged(path, token)  # last, just before the replacement
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_notebook(path, notebook, token):
    """Write notebook to path, atomically, if path still holds the bytes that token
    (from `read_notebook`) names; otherwise raise FileChanged and leave it as it
    is. The text is nbformat's, as `nbformat.write` writes it."""
    text = nbformat.writes(notebook)
    if not text.endswith("\n"):
        text += "\n"
    write_file(path, text, token)


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


def cell_hashes(notebook):
    """One fingerprint per code cell, in order, of what a run leaves in it: its
    source (PUBLISHED_URL left out, as in `code_hash`), its outputs and its
    execution count. run_notebooks.py stores them in the stamp of every notebook it
    executes, and a test fails on a stored notebook whose code or outputs changed
    after that run (a cell re-run in Jupyter or Colab, a quick run, an interrupted
    one). Takes a notebook as nbformat reads it (multi-line strings joined)."""
    hashes = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = PUBLISHED_URL.sub(r'\1"OWNER/NAME/BRANCH"', cell["source"])
        what = [source, cell.get("outputs", []), cell.get("execution_count")]
        encoded = json.dumps(what, ensure_ascii=False, sort_keys=True)
        hashes.append(_sha256(encoded.encode("utf-8"))[:16])
    return hashes


class GuardedFile:
    """A file that a long run writes more than once (a benchmark's results, after
    every step): each write goes through the guard, against the bytes this object
    read at its start or wrote last, so an edit made meanwhile is never lost."""

    def __init__(self, path):
        self.path = Path(path)
        self.token = read_file(self.path)[1]

    def write(self, data):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_file(self.path, data, self.token)
        self.token = read_file(self.path)[1]
