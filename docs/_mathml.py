"""MkDocs hook: typeset the site's math at build time, as MathML (no script, no network).

pymdownx.arithmatex (generic mode) marks the math of every page; this hook replaces
each marked formula by MathML from :func:`symgrad.render.mathml.replace_arithmatex`,
which every current browser displays natively, offline.
"""

from symgrad.render.mathml import replace_arithmatex


def on_page_content(html, page, config, files):
    return replace_arithmatex(html)
