"""Keep the browser console of every page free of errors (tests/test_site_browser.py).

Two upstream glitches of the pinned theme stack each log an error on every page:

- Inline scripts that extensions add once the builder exists (sphinx-thebe's
  `const THEBE_JS_URL = ...`, sphinx-togglebutton's selector) reach the page twice,
  once with the file name None and once with '' (Sphinx 7.4 treats those as different
  assets). The second `const` is a SyntaxError: "Identifier 'THEBE_JS_URL' has already
  been declared". Fix: drop repeated inline scripts from each page.
- pydata-sphinx-theme starts a first-time visitor in the mode
  `html_context["default_mode"]`, an empty string unless set, and then logs "Got
  invalid theme mode: . Resetting to auto." Fix: default to "auto", the mode it falls
  back to anyway.
"""


def default_theme_mode(app, config):
    config.html_context.setdefault("default_mode", "auto")


def drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        if getattr(script, "filename", script) or not attributes.get("body"):
            # A file, or not an inline script: Sphinx dedupes those itself.
            kept.append(script)
            continue
        key = tuple(sorted(attributes.items()))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept  # Sphinx restores the full list after each page


def setup(app):
    app.connect("config-inited", default_theme_mode)
    app.connect("html-page-context", drop_repeated_inline_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
