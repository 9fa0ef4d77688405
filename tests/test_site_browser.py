"""The built site as a reader sees it: every page of the table of contents in Chromium.

The site is served from 127.0.0.1 and every request to any other host is blocked, so
these tests also prove that the book works offline (MathJax and axe-core included). Each
page's full-page screenshot is kept in test-artifacts/screenshots/<page>.png.

On every page: code fits its box on a wide screen, the page fits a phone, and axe-core
finds no serious or critical accessibility problem.

Chromium is Debian's /usr/bin/chromium (or the binary that $CHROMIUM names), driven by
the `playwright` package, which never downloads a browser of its own here. Without it
the browser tests are skipped, except in CI (CI=true), where .ci/run installs it and
its absence is a failure.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import numpy as np
import pytest
import yaml

from book_tools import ROOT, sync_exports

# Debian's Chromium; CHROMIUM=/path/to/chromium points the tests at another build of it.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def source_of(docname):
    """The source file of a TOC entry: `book/02_data` -> book/02_data.ipynb (or .md)."""
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{docname}{suffix}").is_file():
            return ROOT / f"{docname}{suffix}"
    raise FileNotFoundError(
        f"_toc.yml names {docname}, which has no .ipynb or .md source"
    )


PAGES = [str(Path(f).with_suffix("")) for f in sync_exports.toc()]
# The Chinese edition (zh/, its own book, built into the site's zh/ folder).
ZH_PAGES = [f"zh/{Path(f).with_suffix('')}" for f in sync_exports.toc(ROOT / "zh")]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
ZH_CONFIG = yaml.safe_load((ROOT / "zh" / "_config.yml").read_text(encoding="utf-8"))


def config_of(docname):
    return ZH_CONFIG if docname.startswith("zh/") else CONFIG


CODE_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MATH = re.compile(
    r"\$\$.+?\$\$"  # display math
    # inline math, as MyST's dollarmath reads it
    r"|(?<![\\$])\$(?=\S)[^$\n]+?(?<=\S)\$(?!\d)"
    r"|\\begin\{|\{math\}",  # amsmath environments, math roles and directives
    re.S,
)


def markdown_of(source):
    if source.suffix == ".ipynb":
        nb = nbformat.read(source, as_version=4)
        return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return source.read_text(encoding="utf-8")


def prose_of(source):
    """The page's Markdown without code, where a `$` or `#` is not math or a heading."""
    return INLINE_CODE.sub("", CODE_FENCE.sub("", markdown_of(source)))


def source_headings(source):
    text = CODE_FENCE.sub("", markdown_of(source))
    return [m.group(2) for m in re.finditer(r"^(#{1,6})\s+(.+?)\s*#*\s*$", text, re.M)]


def words(text):
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def colab_url(notebook, config=CONFIG):
    owner_repo = (
        config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    )
    branch = config["repository"].get("branch", "main")
    path = notebook.relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{path}"


# --- without a browser: the built pages fetch nothing from the internet ---------------

EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def test_pages_load_no_asset_from_the_internet(built_site):
    _, log, html = built_site
    assert (html / "index.html").is_file(), log[-3000:]
    problems = []
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for tag in re.findall(
            r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*>", text
        ):
            src = re.search(r'\bsrc="([^"]*)"', tag)
            if src and EXTERNAL.match(src.group(1)):
                problems.append(f"{page.relative_to(html)}: {tag}")
        for tag in re.findall(r"<link\b[^>]*>", text):
            href = re.search(r'\bhref="([^"]*)"', tag)
            if (
                href
                and EXTERNAL.match(href.group(1))
                and not re.search(r'rel="canonical"', tag)
            ):
                problems.append(f"{page.relative_to(html)}: {tag}")
    for sheet in html.rglob("*.css"):
        for url in re.findall(
            r"(?:url\(|@import\s+)['\"]?([^'\")\s;]+)", sheet.read_text("utf-8")
        ):
            if EXTERNAL.match(url):
                problems.append(f"{sheet.relative_to(html)}: {url}")
    assert not problems, "assets loaded from the internet:\n" + "\n".join(problems)


def test_mathjax_is_served_by_the_site(built_site):
    _, log, html = built_site
    mathjax = html / "_static" / CONFIG["sphinx"]["config"]["mathjax_path"]
    assert mathjax.is_file(), log[-3000:]
    assert (mathjax.parent / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


# --- in the browser -------------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(built_site):
    _, log, html = built_site
    assert (html / "index.html").is_file(), "the book did not build:\n" + log[-3000:]
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(html))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = (
            "the playwright package is not installed (pip install -r requirements.txt)"
        )
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_visit(browser, site_url):
    """Open a page with no network beyond 127.0.0.1; record errors and blocked URLs.

    visit(docname, prepare) calls prepare(page) first, before the page loads."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    record = {"errors": [], "blocked": []}

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            record["blocked"].append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and record["errors"].append(m.text))
    page.on("pageerror", lambda err: record["errors"].append(f"uncaught: {err}"))

    def visit(docname, prepare=None):
        if prepare:  # e.g. routes of the test's own, set before the page loads
            prepare(page)
        response = page.goto(f"{site_url}/{docname}.html", wait_until="load")
        assert response is not None and response.ok, (
            f"{docname}.html: HTTP {response and response.status}"
        )
        page.wait_for_load_state("networkidle")
        return page, record

    yield visit
    context.close()


@pytest.mark.parametrize("docname", PAGES + ZH_PAGES)
def test_page_renders(page_visit, docname):
    source = source_of(docname)
    page, record = page_visit(docname)

    # MathJax typesets after `load`; wait for it wherever the page loads it.
    has_mathjax = page.evaluate("() => !!(window.MathJax && window.MathJax.startup)")
    if has_mathjax:
        page.evaluate("() => window.MathJax.startup.promise.then(() => true)")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = docname.replace("/", "-").removeprefix("book-")
    page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)

    # Title and headings
    h1 = page.locator("article h1")
    assert h1.count() == 1 and h1.first.is_visible(), "the page should show one <h1>"
    h1_text = h1.first.evaluate(
        "h => { const c = h.cloneNode(true);"
        " c.querySelectorAll('.headerlink').forEach(a => a.remove());"
        " return c.textContent.trim(); }"
    )
    assert h1_text and page.title() == f"{h1_text} — {config_of(docname)['title']}"
    page_headings = [
        words(t)
        for t in page.locator("article :is(h1,h2,h3,h4,h5,h6)").all_text_contents()
    ]
    missing = [
        h
        for h in source_headings(source)
        if "$" not in h and not any(words(h) in shown for shown in page_headings)
    ]
    assert not missing, f"headings of {source.name} missing from the page: {missing}"

    # Offline, and no script errors
    assert not record["blocked"], (
        f"the page tried to reach the internet: {record['blocked']}"
    )
    assert not record["errors"], "console errors:\n" + "\n".join(record["errors"])

    # Images
    broken = page.evaluate(
        "() => Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.currentSrc || i.src)"
    )
    assert not broken, f"images that did not load: {broken}"

    # Math: typeset by the site's own MathJax, without TeX errors
    math = page.locator("article .math")
    if MATH.search(prose_of(source)):
        assert math.count() > 0, f"{source.name} has math, but the page shows none"
    if math.count():
        assert has_mathjax, "the page has math but did not load MathJax"
        assert page.locator("article .math mjx-container").count() >= math.count(), (
            "not every formula was typeset"
        )
        assert page.locator("mjx-merror").count() == 0, "MathJax reports a TeX error"

    if source.suffix != ".ipynb":
        return

    # Notebook pages: the committed outputs show, and the Colab button opens this very
    # notebook.
    outputs = page.locator("article .cell_output")
    assert outputs.count() > 0, "a chapter page should show its code cells' outputs"
    assert any(outputs.nth(i).is_visible() for i in range(outputs.count())), (
        "no output is visible"
    )

    links = page.locator('a[href^="https://colab.research.google.com/"]')
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert hrefs == {colab_url(source, config_of(docname))}
    page.locator(".dropdown-launch-buttons button").click()
    assert links.first.is_visible(), "the launch menu should reveal the Colab link"


def test_every_chapter_is_in_the_browser_run():
    chapters = {
        str(p.relative_to(ROOT).with_suffix("")) for p in sync_exports.chapters()
    }
    assert chapters <= set(PAGES), "chapters missing from _toc.yml: " + ", ".join(
        chapters - set(PAGES)
    )


# --- on every screen: code fits its box, pages fit a phone, axe finds nothing serious

# Where a code cell must show its 88 columns whole (ruff format --line-length 88, and
# book/_static/wide-code.css makes the room), and a phone, where a code block may
# scroll inside its own box but the page itself may not scroll sideways.
WIDE_SCREENS = [(1280, 800), (1440, 900)]
PHONE = (390, 844)

# Open every collapsed cell ("Show code cell source"), so that what it hides is measured
# and checked too, and end its fade-in at once.
OPEN_COLLAPSED = """() => {
  document.querySelectorAll('article details').forEach(d => { d.open = true; });
  document.body.getBoundingClientRect();
  document.getAnimations().forEach(a => a.finish());
}"""

# Every block of code or output, with its widths: each cell's input, each of its outputs
# (and any <pre> inside one), and each code block of the Markdown. `cell` counts the
# page's code cells from 1; `n` numbers a cell's outputs, or the Markdown code blocks.
CODE_BLOCKS = """() => {
  const blocks = [];
  const seen = new Set();
  const add = (el, kind, cell, n) => {
    if (seen.has(el) || ['SCRIPT', 'STYLE', 'LINK'].includes(el.tagName)) return;
    seen.add(el);
    const text = el.textContent;
    blocks.push({
      kind, cell, n,
      text: kind === 'input' ? text : text.slice(0, 200),
      longest: Math.max(...text.split('\\n').map(line => line.length)),
      rendered: el.getClientRects().length > 0,
      scroll: el.scrollWidth,
      client: el.clientWidth,
    });
  };
  document.querySelectorAll('article .cell').forEach((cell, i) => {
    cell.querySelectorAll('.cell_input pre').forEach(el => add(el, 'input', i + 1, 0));
    cell.querySelectorAll('.cell_output > *').forEach((output, j) => {
      add(output, 'output', i + 1, j + 1);
      output.querySelectorAll('pre').forEach(el => add(el, 'output', i + 1, j + 1));
    });
  });
  let n = 0;
  document.querySelectorAll('article pre').forEach(el => {
    if (!el.closest('.cell')) add(el, 'code block', 0, ++n);
  });
  return blocks;
}"""

# What makes a page wider than the viewport: the outermost elements that reach past its
# right edge and are neither inside a box that scrolls or clips nor in a fixed drawer.
STICKING_OUT = """() => {
  const width = document.documentElement.clientWidth;
  const contained = el => {
    for (let p = el; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.position === 'fixed') return true;
      if (p !== el && style.overflowX !== 'visible') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5 && !contained(el)
        && !out.some(outer => outer.contains(el))) {
      out.push(el);
    }
  }
  return out.slice(0, 5).map(el => {
    const name = [el.tagName.toLowerCase(), ...el.classList].join('.');
    const text = el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60);
    return `${name} (right edge at ${Math.round(el.getBoundingClientRect().right)}px)`
      + (text ? `: "${text}"` : '');
  });
}"""

# All of axe-core's default rules, in two runs. Its contrast rule measures every element
# with text, and a chapter's highlighted code is thousands of spans in a few dozen
# colour pairs: checking each would take most of this module's time. So contrast is
# checked everywhere outside code blocks, and inside them on one element per kind,
# colour and background (a block's own text; each token class of the highlighter).
AXE_RUN = """async () => {
  const picks = new Map();
  const pick = (el, key, size) => {
    const had = picks.get(key);
    if (!had || size < had.size) picks.set(key, {el, size});
  };
  for (const pre of document.querySelectorAll('article pre')) {
    const style = getComputedStyle(pre);
    const where = [style.backgroundColor, !!pre.closest('details')].join();
    const size = pre.getElementsByTagName('*').length;
    pick(pre, ['pre', style.color, where].join('|'), size);
    for (const span of pre.querySelectorAll('span')) {
      const token = getComputedStyle(span);
      const colours = [token.color, token.backgroundColor, where];
      pick(span, [span.className, ...colours].join('|'), 0);
    }
  }
  const only = {resultTypes: ['violations']};
  const rest = await axe.run(
    document, {...only, rules: {'color-contrast': {enabled: false}}});
  const contrast = await axe.run(
    {include: [document, ...[...picks.values()].map(p => p.el)],
     exclude: [['article pre']]},
    {...only, runOnly: ['color-contrast']});
  return [...rest.violations, ...contrast.violations];
}"""


@pytest.fixture(scope="module")
def axe_script():
    """axe-core itself (axe.min.js, shipped inside the Python package: no download)."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        reason = (
            "axe-playwright-python is not installed (pip install -r requirements.txt)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the accessibility tests, but {reason}")
        pytest.skip(reason)
    return Axe().axe_script


def first_line(text):
    line = next((line for line in text.splitlines() if line.strip()), "").strip()
    return line if len(line) <= 60 else line[:57] + "..."


def cell_numbers(source, blocks):
    """Page cell -> its index in the notebook's cells (nb.cells[i], from 0), matched by
    the source it shows; {} for a Markdown page."""
    if source.suffix != ".ipynb":
        return {}
    unclaimed = {}
    for index, cell in enumerate(nbformat.read(source, as_version=4).cells):
        if cell.cell_type == "code":
            unclaimed.setdefault(cell.source.strip(), []).append(index)
    numbers = {}
    for block in blocks:
        if block["kind"] == "input" and unclaimed.get(block["text"].strip()):
            numbers[block["cell"]] = unclaimed[block["text"].strip()].pop(0)
    return numbers


def block_name(block, numbers):
    if block["kind"] == "code block":
        return f"Markdown code block {block['n']}"
    cell = block["cell"]
    name = (
        f"cell {numbers[cell]}" if cell in numbers else f"code cell {cell} of the page"
    )
    part = "input" if block["kind"] == "input" else f"output {block['n']}"
    return f"{name} {part}"


def sideways_scrolling(page, source):
    """Blocks wider than their box on a wide screen, and a page wider than a phone."""
    problems = []
    for width, height in WIDE_SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        blocks = page.evaluate(CODE_BLOCKS)
        numbers = cell_numbers(source, blocks)
        for block in blocks:
            name = block_name(block, numbers)
            if not block["rendered"]:
                problems.append(f"{width}x{height}: {name} is not shown, not measured")
            elif block["scroll"] > block["client"]:
                problems.append(
                    f"{width}x{height}: {name} is {block['scroll']}px wide in a "
                    f"{block['client']}px box (longest line {block['longest']} "
                    f"characters): {first_line(block['text'])!r}"
                )

    width, height = PHONE
    page.set_viewport_size({"width": width, "height": height})
    scroll, client = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    if scroll > client:
        culprits = "; ".join(page.evaluate(STICKING_OUT)) or "(none found)"
        problems.append(
            f"{width}x{height}: the page scrolls sideways, {scroll}px wide in a "
            f"{client}px viewport. Sticking out: {culprits}"
        )
    return problems


def describe_violation(violation):
    lines = [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        f" - {violation['helpUrl']}"
    ]
    for node in violation["nodes"][:5]:
        html = re.sub(r"\s+", " ", node["html"])
        lines.append(f"    at {' '.join(node['target'])}: {html[:150]}")
        summary = (node.get("failureSummary") or "").splitlines()
        lines.extend(f"      {line.strip()}" for line in summary[1:3])
    if len(violation["nodes"]) > 5:
        lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.mark.parametrize("docname", PAGES + ZH_PAGES)
def test_page_fits_every_screen_and_passes_axe(page_visit, axe_script, docname):
    """One visit per page for both checks, with every collapsed cell opened."""
    page, record = page_visit(docname)
    page.evaluate("() => window.MathJax?.startup?.promise.then(() => true)")
    page.evaluate(OPEN_COLLAPSED)

    page.evaluate(axe_script)
    violations = page.evaluate(AXE_RUN)
    serious = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not record["blocked"], f"axe reached for the internet: {record['blocked']}"

    sideways = sideways_scrolling(page, source_of(docname))

    report = []
    if sideways:
        report.append(
            "sideways scrolling (cells are numbered from 0, as in the notebook file; "
            "printed text wraps, but code and other outputs must keep their lines "
            "within 88 characters):\n" + "\n".join(sideways)
        )
    if serious:
        report.append(
            "axe-core reports:\n" + "\n".join(describe_violation(v) for v in serious)
        )
    assert not report, f"{docname}: " + "\n\n".join(report)


# Chapter 5's generator in the page (book/_static/lstm-widget.js) against NumPy.
WIDGET_RUN = """async ([prompt, length, temperature, seed]) => {
    const lstm = window.rnnBookLSTM, model = await lstm.load();
    const { logits } = model.read(prompt);
    const p = lstm.probabilities(Array.from(logits), 1.0);
    const started = performance.now();
    const text = await lstm.generate(
        model, prompt, length, temperature, seed, () => {});
    return { p, text, seconds: (performance.now() - started) / 1000 };
}"""


def test_the_page_generator_computes_what_numpy_computes(page_visit):
    import export_model  # scripts/, on the path through book_tools
    import numpy as np

    page, record = page_visit("book/05_sampling")
    prompt, length = "the philosopher ", 300
    result = page.evaluate(WIDGET_RUN, [prompt, length, 0.8, 42])
    manifest, weights = export_model.load()
    index = {ch: i for i, ch in enumerate(manifest["vocabulary"])}
    logits = export_model.numpy_logits(weights, np.array([[index[c] for c in prompt]]))
    z = logits[0].astype(np.float64)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(result["p"], p, rtol=0, atol=1e-5)
    assert len(result["text"]) == length
    assert set(result["text"]) <= set(manifest["vocabulary"])
    again = page.evaluate(WIDGET_RUN, [prompt, length, 0.8, 42])
    assert again["text"] == result["text"]  # the same seed, the same text
    rate = length / result["seconds"]
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "widget-rate.txt").write_text(
        f"{rate:.0f} characters per second (300 at T = 0.8, headless Chromium)\n"
    )
    assert not record["errors"], record["errors"]


def test_the_page_generator_answers_the_keyboard(page_visit):
    page, record = page_visit("book/05_sampling")
    widget = page.locator(".lstm-widget")
    button = widget.get_by_role("button", name="Generate")
    button.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('.lstm-widget [data-role=generate]').disabled"
    )
    prompt = widget.get_by_label("Prompt")
    prompt.fill("what is noble? ")
    slider = widget.get_by_label("Temperature")
    slider.focus()
    page.keyboard.press("ArrowRight")  # 0.50 -> 0.55
    assert widget.locator("output").inner_text() == "0.55"
    button.focus()
    page.keyboard.press("Enter")
    status = widget.locator("[data-role=status]")
    page.wait_for_function(
        "() => document.querySelector('.lstm-widget [data-role=status]')"
        ".textContent.includes('characters at T = 0.55')",
        timeout=60_000,
    )
    text = widget.locator("[data-role=output]").inner_text()
    assert text.startswith("what is noble? ") and len(text) >= 300
    prompt.fill("Übermensch")
    button.click()
    page.wait_for_function(
        "() => document.querySelector('.lstm-widget [data-role=status]')"
        ".textContent.includes('not one of the corpus')"
    )
    assert "leave it out" in status.inner_text()
    assert not record["errors"], record["errors"]


# The widget checks the weights it downloads against the manifest's sha256, as
# load_published does in Python: with crypto.subtle where the browser has it, and with
# its own SHA-256 in JavaScript where it does not (an insecure context: plain http from
# another host). Hiding crypto.subtle before the page loads stands in for such a page.
HIDE_SUBTLE = "Object.defineProperty(globalThis.crypto, 'subtle', {value: undefined});"
WIDGET_STATUS = "document.querySelector('.lstm-widget [data-role=status]').textContent"
WEIGHTS = ROOT / "book" / "_static" / "model" / "weights.bin"


def damage_weights(route):
    """weights.bin as the site serves it, with one byte flipped."""
    response = route.fetch()
    body = bytearray(response.body())
    body[len(body) // 2] ^= 0x01
    route.fulfill(response=response, body=bytes(body))


@pytest.mark.parametrize("digest", ["crypto.subtle", "fallback"])
def test_the_page_generator_refuses_damaged_weights(page_visit, digest):
    def prepare(page):
        if digest == "fallback":
            page.add_init_script(HIDE_SUBTLE)
        page.route("**/_static/model/weights.bin", damage_weights)

    page, record = page_visit("book/05_sampling", prepare)
    assert page.evaluate("() => !globalThis.crypto?.subtle") == (digest == "fallback")
    widget = page.locator(".lstm-widget")
    page.wait_for_function(f"() => {WIDGET_STATUS}.includes('could not be loaded')")
    status = widget.locator("[data-role=status]").inner_text()
    assert "weights file (weights.bin) does not match the sha256" in status, status
    assert "its manifest records" in status and "Reload the page" in status, status
    assert "the site's model files are out of date" in status, status
    assert widget.get_by_role("button", name="Generate").is_disabled()
    assert widget.locator("[data-role=output]").inner_text() == ""
    rejected = page.evaluate(
        "() => window.rnnBookLSTM.load().then(() => null, (error) => error.message)"
    )
    assert rejected and "does not match the sha256" in rejected

    # The same page with the weights intact: the check passes and the model runs.
    page.unroute("**/_static/model/weights.bin")
    page.reload(wait_until="load")
    assert page.evaluate("() => !globalThis.crypto?.subtle") == (digest == "fallback")
    page.wait_for_function(f"() => {WIDGET_STATUS}.startsWith('Ready')")
    widget.get_by_role("button", name="Generate").click()
    page.wait_for_function(
        f"() => {WIDGET_STATUS}.includes('characters at T =')", timeout=60_000
    )
    assert not record["errors"], record["errors"]


FALLBACK_DIGESTS = """async ([inputs, weightsUrl]) => {
    const lstm = window.rnnBookLSTM;
    const out = inputs.map((bytes) => lstm.sha256Fallback(new Uint8Array(bytes)));
    const weights = await (await fetch(weightsUrl)).arrayBuffer();
    out.push(lstm.sha256Fallback(new Uint8Array(weights)));
    return { out, subtle: await lstm.sha256(weights) };
}"""


def test_the_page_sha256_fallback_agrees_with_hashlib(page_visit):
    import hashlib
    import json
    import random

    page, record = page_visit("book/05_sampling")
    make = random.Random(31)
    inputs = [b"", b"abc", "naïve übermensch\n".encode()]
    # Around the block edges: 55 bytes pad into one block, 56 need a second.
    inputs += [make.randbytes(n) for n in (1, 55, 56, 63, 64, 65, 119, 120, 1000)]
    result = page.evaluate(
        FALLBACK_DIGESTS, [[list(b) for b in inputs], "../_static/model/weights.bin"]
    )
    weights = WEIGHTS.read_bytes()
    expected = [hashlib.sha256(b).hexdigest() for b in [*inputs, weights]]
    assert result["out"] == expected
    manifest = json.loads((WEIGHTS.parent / "manifest.json").read_text("utf-8"))
    assert result["subtle"] == expected[-1] == manifest["sha256"]
    assert not record["errors"], record["errors"]


# Chapter 7's unit explorer (book/_static/unit-explorer.js), on the same LSTM as the
# generator (window.rnnBookLSTM, from lstm-widget.js), against NumPy.
EXPLORER = "book/07_inside_the_lstm"
EXPLORER_PASSAGE = (
    'the "free spirit" (as we call him) thinks otherwise than\n'
    "is expected of him: he is the exception, and the bound spirits are the rule."
)
EXPLORER_READY = (
    "() => !document.querySelector('.unit-explorer [data-role=shade]').disabled"
)
EXPLORER_TRACE = """async (text) => {
    const model = await window.rnnBookLSTM.loadShared();
    const { h, c } = model.trace(text);
    return { h: h.map((s) => Array.from(s)), c: c.map((s) => Array.from(s)) };
}"""


def numpy_states(weights, codes):
    """h and c after every step [T, units] from a zero state, in NumPy float32, with the
    equations of scripts/export_model.py's numpy_logits (gates i, f, g, o)."""
    kernel, recurrent, bias, _, _ = (np.float32(w) for w in weights)
    h = np.zeros(recurrent.shape[0], np.float32)
    c = np.zeros(recurrent.shape[0], np.float32)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    hs, cs = [], []
    for code in codes:
        z = kernel[code] + h @ recurrent + bias
        i, f, g, o = np.split(z, 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


@pytest.fixture(scope="module")
def numpy_explorer_states():
    import export_model  # scripts/, on the path through book_tools

    manifest, weights = export_model.load()
    index = {ch: i for i, ch in enumerate(manifest["vocabulary"])}
    return numpy_states(weights, [index[ch] for ch in EXPLORER_PASSAGE])


def test_the_unit_explorer_computes_what_numpy_computes(
    page_visit, numpy_explorer_states
):
    h, c = numpy_explorer_states
    page, record = page_visit(EXPLORER)
    page.wait_for_function(EXPLORER_READY)
    traced = page.evaluate(EXPLORER_TRACE, EXPLORER_PASSAGE)
    np.testing.assert_allclose(traced["h"], h, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.tanh(traced["c"]), np.tanh(c), rtol=0, atol=1e-5)
    np.testing.assert_allclose(traced["c"], c, rtol=1e-5, atol=1e-5)

    # What the page shades: tanh(c) of one unit, chosen with the controls.
    widget = page.locator(".unit-explorer")
    widget.get_by_label("Passage to read").fill(EXPLORER_PASSAGE)
    widget.get_by_label("State").select_option("tanh(c)")
    widget.get_by_label("Unit (0 to 255)").fill("37")
    widget.get_by_role("button", name="Shade").click()
    shown = page.evaluate(
        "() => document.querySelector('.unit-explorer').explorerValues"
    )
    np.testing.assert_allclose(shown, np.tanh(c[:, 37]), rtol=0, atol=1e-5)
    spans = widget.locator("[data-role=output] span")
    assert spans.count() == len(EXPLORER_PASSAGE)
    assert not record["errors"], record["errors"]


def test_the_unit_explorer_answers_the_keyboard(page_visit, numpy_explorer_states):
    h, _ = numpy_explorer_states
    page, record = page_visit(EXPLORER)
    page.wait_for_function(EXPLORER_READY)
    widget = page.locator(".unit-explorer")
    status = widget.locator("[data-role=status]")

    # Tab moves through the controls in reading order.
    order = ["gallery", "layer", "unit", "preset", "text", "shade"]
    widget.locator("[data-role=gallery]").focus()
    for role in order[1:]:
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.dataset.role")
        assert focused == role, f"Tab reached {focused}, not {role}"

    # A passage typed, a unit chosen, the button pressed: all from the keyboard.
    widget.get_by_label("Passage to read").fill("")
    widget.get_by_label("Passage to read").focus()
    page.keyboard.type(EXPLORER_PASSAGE[:40])
    widget.get_by_label("State").focus()
    page.keyboard.press("ArrowUp")  # h, the first state
    widget.get_by_label("Unit (0 to 255)").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    widget.get_by_role("button", name="Shade").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.unit-explorer [data-role=status]')"
        ".textContent.startsWith('h[5] over 40 characters')"
    )
    shown = page.evaluate(
        "() => document.querySelector('.unit-explorer').explorerValues"
    )
    np.testing.assert_allclose(shown, h[:40, 5], rtol=0, atol=1e-5)

    # The gallery, from the chapter's recorded run: a unit, its contexts, its shading.
    gallery = widget.locator("[data-role=gallery] option")
    assert gallery.count() > 1, "the page holds no gallery data (is the notebook run?)"
    widget.get_by_label("Gallery unit").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function(
        "() => document.querySelectorAll('.unit-explorer [data-role=contexts] div')"
        ".length > 0"
    )
    assert widget.locator("[data-role=output] span").count() > 0
    assert "over" in status.inner_text()
    passages = widget.locator("[data-role=preset] option")
    assert passages.count() > 1

    # A character the model does not know: a message, no shading.
    widget.get_by_label("Passage to read").fill("der Übermensch")
    widget.get_by_role("button", name="Shade").click()
    assert "not one of the corpus" in status.inner_text()
    assert widget.locator("[data-role=output] span").count() == 0
    assert not record["errors"], record["errors"]


def test_the_unit_explorer_passes_axe_once_used(page_visit, axe_script):
    page, record = page_visit(EXPLORER)
    page.wait_for_function(EXPLORER_READY)
    widget = page.locator(".unit-explorer")
    widget.get_by_label("Passage to read").fill(EXPLORER_PASSAGE)
    widget.get_by_role("button", name="Shade").click()
    if widget.locator("[data-role=gallery] option").count() > 1:
        widget.get_by_label("Gallery unit").select_option(index=1)
    page.evaluate(axe_script)
    violations = page.evaluate(
        "async () => (await axe.run(document.querySelector('.unit-explorer'),"
        " {resultTypes: ['violations']})).violations"
    )
    serious = [v for v in violations if v["impact"] in ("critical", "serious")]
    assert not serious, "\n".join(describe_violation(v) for v in serious)
    assert not record["blocked"], f"axe reached for the internet: {record['blocked']}"


# --- the two editions ---------------------------------------------------------------

# Whether a character has a glyph: drawn on a canvas, a character that no font has is
# the same box as one from the Private Use Area, which no font has either.
HAS_GLYPH = """(text) => {
    const draw = (t) => {
        const canvas = document.createElement("canvas");
        canvas.width = 64; canvas.height = 64;
        const ctx = canvas.getContext("2d");
        ctx.font = `48px ${getComputedStyle(document.body).fontFamily}`;
        ctx.fillText(t, 4, 52);
        return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(",");
    };
    const missing = draw("\\uE000");
    return Array.from(text).filter(c => c.trim()).map(c => draw(c) !== missing);
}"""


@pytest.mark.parametrize("docname", ZH_PAGES)
def test_chinese_pages_are_marked_chinese_and_every_glyph_is_drawn(page_visit, docname):
    page, _ = page_visit(docname)
    assert page.evaluate("() => document.documentElement.lang").startswith("zh")
    heading = page.locator("article h1").first.text_content()
    chinese = "".join(c for c in heading if "\u4e00" <= c <= "\u9fff")
    assert chinese, f"{docname}: its title has no Chinese"
    drawn = page.evaluate(HAS_GLYPH, chinese + "，。：；“”")
    assert all(drawn), f"{docname}: characters drawn as empty boxes: {drawn}"


@pytest.mark.parametrize("docname", [p for p in PAGES if p.startswith("book/")])
def test_every_english_page_links_to_its_chinese_twin_or_says_it_has_none(
    page_visit, docname
):
    page, _ = page_visit(docname)
    switch = page.locator("article .edition-switch")
    assert switch.count() == 1, f"{docname}: no line that links to the other edition"
    twin = ROOT / "zh" / f"{Path(docname).name}.ipynb"
    if twin.is_file() or (ROOT / "zh" / f"{Path(docname).name}.md").is_file():
        link = switch.locator('a[hreflang="zh"]')
        assert link.get_attribute("href") == f"../zh/{Path(docname).name}.html"
        link.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/zh/{Path(docname).name}.html")
        back = page.locator('article .edition-switch a[hreflang="en"]')
        assert back.get_attribute("href") == f"../book/{Path(docname).name}.html"
    else:
        assert "in English only" in switch.text_content()


def test_chapter_5s_generator_works_on_the_chinese_page(page_visit):
    page, record = page_visit("zh/05_sampling")
    status = page.locator(".lstm-widget [data-role=status]")
    page.wait_for_function(
        "() => document.querySelector('.lstm-widget [data-role=status]')"
        ".textContent.startsWith('Ready')",
        timeout=30_000,
    )
    page.locator(".lstm-widget [data-role=generate]").click()
    output = page.locator(".lstm-widget [data-role=output]")
    page.wait_for_function(
        "() => document.querySelector('.lstm-widget [data-role=output]')"
        ".textContent.length > 40",
        timeout=60_000,
    )
    assert status.text_content() and len(output.text_content()) > 40
    assert not record["errors"], record["errors"]
