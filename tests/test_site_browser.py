"""The built site as a reader sees it: every page of the table of contents in headless Chromium.

The site is served from 127.0.0.1 and every request to any other host is blocked, so these tests
also prove that the book works offline (MathJax included). Each page's full-page screenshot is
kept in test-artifacts/screenshots/<page>.png.

Chromium is Debian's /usr/bin/chromium (or the binary that $CHROMIUM names), driven by the
`playwright` package, which never downloads a browser of its own here. Without it the browser
tests are skipped, except in CI (CI=true), where .ci/run installs it and its absence is a failure.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from conftest import ROOT, sync_exports

# Debian's Chromium; CHROMIUM=/path/to/chromium points the tests at another build of it.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def toc_files(entry):
    """The `file:` entries of _toc.yml (root, chapters, parts, sections), in reading order."""
    if isinstance(entry, dict):
        if "root" in entry:
            yield entry["root"]
        if "file" in entry:
            yield entry["file"]
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key, []):
                yield from toc_files(child)


def source_of(docname):
    """The source file of a TOC entry: `book/02_data` -> book/02_data.ipynb (or .md)."""
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{docname}{suffix}").is_file():
            return ROOT / f"{docname}{suffix}"
    raise FileNotFoundError(f"_toc.yml names {docname}, which has no .ipynb or .md source")


PAGES = [
    str(Path(f).with_suffix("")) for f in toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())

CODE_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MATH = re.compile(
    r"\$\$.+?\$\$"  # display math
    r"|(?<![\\$])\$(?=\S)[^$\n]+?(?<=\S)\$(?!\d)"  # inline math, as MyST's dollarmath reads it
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


def colab_url(notebook):
    owner_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/").strip("/")
    branch = CONFIG["repository"].get("branch", "main")
    path = notebook.relative_to(ROOT).as_posix()
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{path}"


# --- without a browser: the built pages fetch nothing from the internet --------------------------

EXTERNAL = re.compile(r"^(https?:)?//", re.I)


def test_pages_load_no_asset_from_the_internet(built_site):
    _, log, html = built_site
    assert (html / "index.html").is_file(), log[-3000:]
    problems = []
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*>", text):
            src = re.search(r'\bsrc="([^"]*)"', tag)
            if src and EXTERNAL.match(src.group(1)):
                problems.append(f"{page.relative_to(html)}: {tag}")
        for tag in re.findall(r"<link\b[^>]*>", text):
            href = re.search(r'\bhref="([^"]*)"', tag)
            if href and EXTERNAL.match(href.group(1)) and not re.search(r'rel="canonical"', tag):
                problems.append(f"{page.relative_to(html)}: {tag}")
    for sheet in html.rglob("*.css"):
        for url in re.findall(r"(?:url\(|@import\s+)['\"]?([^'\")\s;]+)", sheet.read_text("utf-8")):
            if EXTERNAL.match(url):
                problems.append(f"{sheet.relative_to(html)}: {url}")
    assert not problems, "assets loaded from the internet:\n" + "\n".join(problems)


def test_mathjax_is_served_by_the_site(built_site):
    _, log, html = built_site
    mathjax = html / "_static" / CONFIG["sphinx"]["config"]["mathjax_path"]
    assert mathjax.is_file(), log[-3000:]
    assert (mathjax.parent / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


# --- in the browser --------------------------------------------------------------------------------


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
        reason = "the playwright package is not installed (pip install -r requirements.txt)"
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium) - the browser tests need it"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page_visit(browser, site_url):
    """Open a page with the network cut off beyond 127.0.0.1; record errors and blocked requests."""
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

    def visit(docname):
        response = page.goto(f"{site_url}/{docname}.html", wait_until="load")
        assert response is not None and response.ok, (
            f"{docname}.html: HTTP {response and response.status}"
        )
        page.wait_for_load_state("networkidle")
        return page, record

    yield visit
    context.close()


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders(page_visit, docname):
    source = source_of(docname)
    page, record = page_visit(docname)

    # MathJax typesets after `load`; wait for it wherever the page loads it.
    has_mathjax = page.evaluate("() => !!(window.MathJax && window.MathJax.startup)")
    if has_mathjax:
        page.evaluate("() => window.MathJax.startup.promise.then(() => true)")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{Path(docname).name}.png"), full_page=True)

    # Title and headings
    h1 = page.locator("article h1")
    assert h1.count() == 1 and h1.first.is_visible(), "the page should show one <h1>"
    h1_text = h1.first.evaluate(
        "h => { const c = h.cloneNode(true); c.querySelectorAll('.headerlink').forEach(a => a.remove());"
        " return c.textContent.trim(); }"
    )
    assert h1_text and page.title() == f"{h1_text} — {CONFIG['title']}"
    page_headings = [
        words(t) for t in page.locator("article :is(h1,h2,h3,h4,h5,h6)").all_text_contents()
    ]
    missing = [
        h
        for h in source_headings(source)
        if "$" not in h and not any(words(h) in shown for shown in page_headings)
    ]
    assert not missing, f"headings of {source.name} missing from the page: {missing}"

    # Offline, and no script errors
    assert not record["blocked"], f"the page tried to reach the internet: {record['blocked']}"
    assert not record["errors"], "console errors:\n" + "\n".join(record["errors"])

    # Images
    broken = page.evaluate(
        "() => Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src)"
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

    # Notebook pages: the committed outputs show, and the Colab button opens this very notebook.
    outputs = page.locator("article .cell_output")
    assert outputs.count() > 0, "a chapter page should show its code cells' outputs"
    assert any(outputs.nth(i).is_visible() for i in range(outputs.count())), "no output is visible"

    links = page.locator('a[href^="https://colab.research.google.com/"]')
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert hrefs == {colab_url(source)}
    page.locator(".dropdown-launch-buttons button").click()
    assert links.first.is_visible(), "the launch menu should reveal the Colab link"


def test_every_chapter_is_in_the_browser_run():
    chapters = {str(p.relative_to(ROOT).with_suffix("")) for p in sync_exports.chapters()}
    assert chapters <= set(PAGES), "chapters missing from _toc.yml: " + ", ".join(
        chapters - set(PAGES)
    )
