"""The stored notebooks are what readers see: outputs of a clean top-to-bottom run."""

import ast
import json
import re
import sys

import pytest

from book_tools import ROOT, sync_exports

CHAPTERS = sync_exports.chapters()
MACHINE_PATH = re.compile(
    r"(/root/|/tmp/|/work/|/home/\w+/|/Users/\w+/|site-packages/|[A-Z]:\\\\)"
)
TF_NOISE = re.compile(
    r"(^|\n)[IWEF]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]|absl::InitializeLog"
    r"|oneDNN custom operations|cuda_platform|cudart_stub|rebuild TensorFlow"
    r"|WARNING:tensorflow:|INFO:tensorflow:"
)
NOT_STANDALONE = re.compile(
    r"^\s*(%run|!|sys\.path|from scripts|import sync_exports)|\.\./", re.M
)


def code_cells(nb):
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]


def output_text(out):
    text = out.get("text", "")
    data = out.get("data", {}).get("text/plain", "")
    return "".join(text) + "".join(data)


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def notebook(request):
    return request.param.name, json.loads(request.param.read_text(encoding="utf-8"))


def test_book_has_chapters():
    assert [p.stem[:2] for p in CHAPTERS] == [
        f"{i:02d}" for i in range(1, len(CHAPTERS) + 1)
    ]


def test_kernel_is_python3(notebook):
    name, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3", name


def test_executed_top_to_bottom(notebook):
    name, nb = notebook
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{name}: re-run it with scripts/run_notebooks.py"
    )


def test_no_errors_noise_or_machine_paths(notebook):
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{name} cell {i} stores a traceback"
            text = output_text(out)
            assert not TF_NOISE.search(text), (
                f"{name} cell {i} shows TensorFlow log noise"
            )
            assert not MACHINE_PATH.search(text), (
                f"{name} cell {i} shows a machine path"
            )


def test_stands_alone(notebook):
    name, nb = notebook
    for cell in code_cells(nb):
        source = "".join(cell["source"])
        assert not NOT_STANDALONE.search(source), (
            f"{name}: a cell depends on the repository:\n{source}"
        )


def test_starts_with_a_title(notebook):
    name, nb = notebook
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith("# "), name


def test_checks_some_outputs(notebook):
    """Every chapter backs its claims with compared outputs (cells tagged
    nbval-check-output).
    """
    name, nb = notebook
    checked = [
        c
        for c in code_cells(nb)
        if "nbval-check-output" in c["metadata"].get("tags", [])
    ]
    assert checked and all(c["outputs"] for c in checked), name


def test_every_figure_has_alt_text(notebook):
    """myst-nb reads a figure's alt text from the cell's metadata (mystnb.image.alt)."""
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        images = [
            o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})
        ]
        if not images:
            continue
        mystnb = cell["metadata"].get("mystnb", {})
        alt = mystnb.get("image", {}).get("alt", "")
        assert len(alt.split()) >= 12, f"{name} cell {i}: a figure without alt text"
        caption = mystnb.get("figure", {})
        if caption:
            assert caption.get("caption") and caption.get("name", "").startswith(
                "fig-"
            ), f"{name} cell {i}: a figure needs a caption and a name fig-..."


def test_every_notebook_in_book_is_a_chapter_of_the_table_of_contents():
    """_toc.yml is the one list of chapters that every script and test reads."""
    on_disk = sorted((ROOT / "book").glob("*.ipynb"))
    assert on_disk == sorted(CHAPTERS), "add the notebook to _toc.yml"


def test_the_intros_chapter_map_follows_the_table_of_contents():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    section = intro.split("## Chapter map", 1)[1].split("\n## ", 1)[0]
    mapped = re.findall(r"^\| \{doc\}`([^`]+)`", section, re.M)
    assert mapped == [p.stem for p in CHAPTERS]


def test_stored_outputs_come_from_a_full_run(notebook):
    """scripts/run_notebooks.py stamps what it ran; a quick (test-length) run, or
    outputs from anywhere else, fail here."""
    name, nb = notebook
    run = nb["metadata"].get("rnn_book", {}).get("run")
    assert run == "full", (
        f"{name}: outputs from a {run or 'unstamped'} run; re-execute it with "
        "python scripts/run_notebooks.py (without --quick)"
    )


def test_no_execution_timestamps(notebook):
    name, nb = notebook
    stamped = [i for i, c in enumerate(nb["cells"]) if "execution" in c["metadata"]]
    assert not stamped, f"{name}: cells {stamped} carry execution timestamps"


# The course conventions (CONTRIBUTING.md, "Conventions the tests check"), in every
# chapter.
MAX_VISIBLE_LINES = 30
MAX_PRINTED = 88
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def taught(request):
    path = request.param
    return path.name, json.loads(path.read_text(encoding="utf-8"))


def is_folded(cell):
    return "hide-input" in cell["metadata"].get("tags", [])


def test_no_visible_code_cell_is_longer_than_30_lines(taught):
    name, nb = taught
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and not is_folded(cell):
            lines = "".join(cell["source"]).strip().splitlines()
            assert len(lines) <= MAX_VISIBLE_LINES, (
                f"{name} cell {i}: {len(lines)} visible lines; move safeguards into a "
                "support cell"
            )


def test_support_cells_are_folded_on_the_page_and_in_colab(taught):
    """A support cell: `# @title ...` first, hide-input, Colab's form view, and a
    sentence before it that the reader sees."""
    name, nb = taught
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        if "hide-cell" in cell["metadata"].get("tags", []):
            continue  # a solution: test_cells_that_open_folded_do_so_everywhere
        defines = re.search(r"^(def|class) ", source, re.M)
        if is_folded(cell) and defines or source.startswith("# @title "):
            assert source.startswith("# @title "), f"{name} cell {i}: no # @title"
            assert is_folded(cell), f"{name} cell {i}: not tagged hide-input"
            assert cell["metadata"].get("cellView") == "form", f"{name} cell {i}"
            if "earlier-chapters" not in cell["metadata"].get("tags", []):
                assert nb["cells"][i - 1]["cell_type"] == "markdown", (
                    f"{name} cell {i}: a support cell needs a lead-in sentence"
                )


SOLUTION_TITLE = re.compile(r"# @title Solution \d+\b")


def opens_folded(cell):
    """Folded in Colab (its form view, under the `# @title` line) and in JupyterLab and
    VS Code (jupyter.source_hidden)."""
    metadata = cell["metadata"]
    return (
        metadata.get("cellView") == "form"
        and metadata.get("jupyter", {}).get("source_hidden") is True
    )


def test_cells_that_open_folded_do_so_everywhere(notebook):
    """Support cells (hide-input, `# @title` first), the generated `earlier-chapters`
    cell and the exercise solutions (hide-cell) open folded wherever the notebook is
    opened: metadata {"cellView": "form", "jupyter": {"source_hidden": true}}. A
    solution's first line is `# @title Solution N`, with what it shows after it."""
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        tags = cell["metadata"].get("tags", [])
        source = "".join(cell["source"])
        support = "hide-input" in tags and source.startswith("# @title ")
        solution = "hide-cell" in tags
        if support or solution or "earlier-chapters" in tags:
            assert opens_folded(cell), (
                f'{name} cell {i}: needs "cellView": "form" and "jupyter": '
                '{"source_hidden": true} in its metadata'
            )
        if solution:
            title = source.split("\n", 1)[0]
            assert SOLUTION_TITLE.match(title), f"{name} cell {i}: {title!r}"
            assert len(title) <= MAX_PRINTED, f"{name} cell {i}: a long title"


def test_test_knobs_are_out_of_sight(taught):
    """The sizes that RNN_BOOK_QUICK shortens live in a folded parameters cell."""
    name, nb = taught
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and not is_folded(cell):
            assert "QUICK" not in "".join(cell["source"]), f"{name} cell {i}"


def test_no_model_overrides_keras_call(taught):
    name, nb = taught
    for cell in code_cells(nb):
        assert "def __call__" not in "".join(cell["source"]), name


def test_printed_lines_fit_the_page(taught):
    """At most 88 characters, except generated text (chapters 5 and on), which wraps."""
    name, nb = taught
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                for line in "".join(out["text"]).splitlines():
                    shown = ANSI_STYLE.sub("", line)  # progress bars' colours
                    assert len(shown) <= MAX_PRINTED, f"{name} cell {i}: {line!r}"


# What a fresh Colab runtime (or any Jupyter kernel) has: the standard library, the
# kernel's own IPython, and the three packages the README names.
RUNTIME_PACKAGES = {"tensorflow", "keras", "numpy", "matplotlib", "IPython"}
# google.colab ships with every Colab runtime; the chapters import it only there, to
# mount Google Drive when a reader asks for it (CHECKPOINTS_ON_DRIVE).
COLAB_ONLY = {"google.colab"}


def root_of(module):
    return "google.colab" if module.startswith("google.colab") else module.split(".")[0]


def imported_roots(source):
    """The top-level modules a cell's code imports (IPython magics left out);
    google.colab is kept whole, as it is the one google package allowed."""
    lines = [line for line in source.splitlines() if line.lstrip()[:1] not in "%!"]
    if source.lstrip().startswith("%%"):
        return set()
    roots = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            roots |= {root_of(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(root_of(node.module))
    return roots


def test_a_notebook_needs_only_tensorflow_numpy_and_matplotlib(notebook):
    """Each notebook runs alone in a fresh runtime: it imports nothing from this
    repository (no rnnbook, no scripts) and no package beyond TensorFlow/Keras, NumPy
    and Matplotlib."""
    name, nb = notebook
    allowed = set(sys.stdlib_module_names) | RUNTIME_PACKAGES | COLAB_ONLY
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            extra = imported_roots("".join(cell["source"])) - allowed
            assert not extra, f"{name} cell {i} imports {sorted(extra)}"
