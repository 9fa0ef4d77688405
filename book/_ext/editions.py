"""Each page links to the same chapter in the book's other edition.

The book has an English edition (this repository's root book, pages under book/) and a
Chinese edition of Part I (the book in zh/, built into the site's zh/ folder). Both
builds load this extension; `editions_this` in the Sphinx config names the edition a
build makes ("en" or "zh"). At the top of every page it adds one line that links to the
same chapter in the other edition, when there is one:

- an English chapter that the Chinese edition translates: a link to it, in Chinese;
- an English chapter that it does not (Part II): a note that the chapter is in English
  only, and a link to the Chinese edition's first page;
- a Chinese page: a link to the same chapter in English (or to the English book's
  first page, from a page that has no English twin, such as the glossary).

Text in the other language carries its own `lang` attribute, for screen readers. A
page's twin is found by its file name: book/NN_name.ipynb <-> zh/NN_name.ipynb, and
book/intro.md <-> zh/intro.md.
"""

from pathlib import Path

SUFFIXES = (".ipynb", ".md")


def twin(srcdir, pagename, this):
    """The other edition's page for pagename, as a path relative to this page's
    folder in the built site, or None when there is none."""
    root = Path(srcdir)
    name = Path(pagename).name
    if this == "en":
        if not pagename.startswith("book/"):
            return None
        other = root / "zh"
        found = any((other / f"{name}{suffix}").is_file() for suffix in SUFFIXES)
        return f"../zh/{name}.html" if found else None
    other = root.parent / "book"
    found = any((other / f"{name}{suffix}").is_file() for suffix in SUFFIXES)
    return f"../book/{name}.html" if found else None


def switch_line(srcdir, pagename, this):
    """The HTML line that links this page to the other edition."""
    href = twin(srcdir, pagename, this)
    if this == "en" and href:
        link = f'<a href="{href}" hreflang="zh" lang="zh">本页中文版</a>'
        return f"Chinese edition of this page: {link}"
    if this == "en":
        note = '<span lang="zh">本章只有英文版；中文版包括第一部分的五章。</span>'
        first = '<a href="../zh/intro.html" hreflang="zh">the Chinese edition</a>'
        return f"This chapter is in English only ({first} covers Part I). {note}"
    if href:
        link = f'<a href="{href}" hreflang="en" lang="en">English</a>'
        return f"本页英文版：{link}"
    link = '<a href="../book/intro.html" hreflang="en" lang="en">English</a>'
    return f"英文版全书：{link}"


def add_switch(app, pagename, templatename, context, doctree):
    this = app.config.editions_this
    if doctree is None or "body" not in context:
        return
    line = switch_line(app.srcdir, pagename, this)
    context["body"] = f'<p class="edition-switch">{line}</p>\n' + context["body"]


def setup(app):
    app.add_config_value("editions_this", "en", "html")
    app.connect("html-page-context", add_switch)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
