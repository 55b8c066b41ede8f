r"""LaTeX math to MathML, which browsers typeset natively with no script and no network.

Used by the documentation build (``docs/_mathml.py``, a MkDocs hook) and by the
rich display in Jupyter (:mod:`symgrad.render.display`).  The converter is the
``latex2mathml`` package (the ``docs`` and ``notebook`` extras); this module only
adapts the few constructs it does not read the way LaTeX does:

* ``aligned`` (with or without ``[t]``) is read as ``align*``, which the
  converter lays out as a table (it treats ``&`` in ``aligned`` as a letter);
* ``\label{..}``, ``\nonumber`` and ``\notag`` are dropped (no numbering on a web page);
* ``\displaystyle`` is dropped inside display math, where it changes nothing.
"""

from __future__ import annotations

import html
import re

_ALIGNED = re.compile(r"\\begin\{aligned\}(\[[tcb]\])?")
_DROP = re.compile(r"\\label\{[^{}]*\}|\\nonumber\b|\\notag\b")
_COLUMNALIGN = re.compile(r'<mtd columnalign="(left|right|center)"')


def available() -> bool:
    """True when the ``latex2mathml`` package can be imported."""
    try:
        import latex2mathml.converter  # noqa: F401
    except ImportError:
        return False
    return True


def to_mathml(tex: str, display: bool = False) -> str:
    """One ``<math>`` element for the LaTeX math string ``tex`` (no ``$`` around it).

    The LaTeX source is kept in the ``alttext`` attribute (screen readers, copy).
    Raises ImportError when ``latex2mathml`` is missing.
    """
    from latex2mathml.converter import convert

    source = tex.strip()
    clean = _ALIGNED.sub(r"\\begin{align*}", source).replace(r"\end{aligned}", r"\end{align*}")
    clean = _DROP.sub("", clean)
    if display:
        clean = clean.replace(r"\displaystyle", "")
    out = convert(clean, display="block" if display else "inline")
    # MathML Core (Chromium) ignores columnalign; CSS aligns the cells of aligned rows.
    out = _COLUMNALIGN.sub(r'<mtd columnalign="\1" style="text-align: \1"', out)
    alt = html.escape(" ".join(source.split()), quote=True)
    return out.replace("<math ", f'<math alttext="{alt}" ', 1)


#: Math as pymdownx.arithmatex writes it in generic mode: ``\(..\)`` in a span,
#: ``\[..\]`` (or an environment) in a div.
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)


def _strip_delimiters(tex: str) -> str:
    tex = tex.strip()
    if tex[:2] in (r"\(", r"\[") and tex[-2:] in (r"\)", r"\]"):
        return tex[2:-2]
    return tex


def replace_arithmatex(page_html: str) -> str:
    """Replace every arithmatex span/div of a rendered page by MathML."""

    def one(match) -> str:
        tag, body = match.group(1), match.group(2)
        tex = _strip_delimiters(html.unescape(body))
        math = to_mathml(tex, display=tag == "div")
        return f'<{tag} class="symgrad-math">{math}</{tag}>'

    return _ARITHMATEX.sub(one, page_html)


__all__ = ["available", "to_mathml", "replace_arithmatex"]
