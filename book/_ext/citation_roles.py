"""Bibliography entries that assistive technology reads as a list of entries.

The {bibliography} directive of sphinxcontrib-bibtex makes docutils citation nodes,
which docutils' HTML5 writer (docutils/writers/_html_base.py, `visit_citation`) renders
as

    <div role="list" class="citation-list">
      <div class="citation" role="doc-biblioentry"> <span class="label">[<a
        role="doc-backlink" ...>Bri15</a>]</span> <p>...</p> </div> ...

DPUB-ARIA 1.1 deprecated `doc-biblioentry` (use `listitem`), and axe-core treats an
element with a deprecated role as roleless: the back-links inside each entry then count
as children of the `list`, which axe reports as a critical `aria-required-children`
violation (plus the minor `aria-deprecated-role` and `aria-allowed-role`). Giving each
entry the role `listitem` is what the spec recommends, and what the list needs.

The writer hard-codes the role, so it is changed in the rendered page body.
"""

import re

# `<div class="citation" id="id13" role="doc-biblioentry">`, as docutils writes it
ENTRY = re.compile(r'(<div class="citation"[^>]*? role=)"doc-biblioentry"')


def citations_as_list_items(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = ENTRY.sub(r'\1"listitem"', body)


def setup(app):
    app.connect("html-page-context", citations_as_list_items)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
