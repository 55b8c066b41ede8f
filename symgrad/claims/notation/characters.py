"""Unicode copied from web pages, mapped to the ASCII and LaTeX the lexer reads.

Private helper of :mod:`symgrad.claims.lexer`.  One character at a time, so that
error columns still point into the original text: ``∂`` is ``\\partial``, ``·`` and
``×`` are ``*``, ``−`` is ``-``, ``ŷ`` is ``yhat``, ``σ`` is ``\\sigma``, a run of
superscripts ``²`` is ``^{2}``, a run of subscripts ``ᵢ₁`` is ``_{i1}`` (so ``xᵢ₁`` is
``x_{i1}`` and ``Σᵢ`` is ``\\sum_{i}``); other characters go through NFKC (full-width
brackets are brackets) and must come out as ASCII.
"""

from __future__ import annotations

import unicodedata

from symgrad.errors import ParseError

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾", "0123456789+-()"))

_UNICODE = {
    "∂": "\\partial ", "σ": "\\sigma ", "Σ": "\\sum ", "∑": "\\sum ", "√": "\\sqrt ",
    "·": "*", "⋅": "*", "∙": "*", "×": "*", "∗": "*", "•": "*",
    "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-", "÷": "/", "∕": "/", "⁄": "/",
    "ŷ": "yhat", "δ": "delta", "′": "'", "’": "'", "″": "''", "ʹ": "'",
    "⊙": "\\odot ", "∘": "\\circ ", "ᵀ": "^T",            # matrix claims
}

def _is_subscript(c: str) -> bool:
    """Whether ``c`` is a Unicode subscript digit or letter (``₁``, ``ᵢ``, ``ⱼ``)."""
    return not c.isascii() and unicodedata.decomposition(c).startswith("<sub>") \
        and unicodedata.normalize("NFKC", c).isalnum()


def normalize(text: str) -> tuple[str, list[int]]:
    """Map Unicode to ASCII/LaTeX; return ``(chars, cols)`` with original columns."""
    out: list[str] = []
    cols: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        col = i + 1
        if c in _SUPERSCRIPTS:
            j = i
            while j < n and text[j] in _SUPERSCRIPTS:
                j += 1
            rep = "^{" + "".join(_SUPERSCRIPTS[t] for t in text[i:j]) + "}"
            i = j
        elif c == "\u0302" and out and out[-1] == "y":     # y + combining circumflex
            rep, i = "hat", i + 1
        elif _is_subscript(c):                            # x₁, xᵢ₁, Σᵢ: a subscript
            j = i
            while j < n and _is_subscript(text[j]):
                j += 1
            rep = "_{" + unicodedata.normalize("NFKC", text[i:j]) + "}"
            i = j
        elif c.isascii():
            rep, i = c, i + 1
        elif c in _UNICODE:
            rep, i = _UNICODE[c], i + 1
        else:
            rep = unicodedata.normalize("NFKC", c)
            if rep in _UNICODE:
                rep = _UNICODE[rep]
            elif not (rep.isascii() and rep.isprintable()):
                name = unicodedata.name(c, "unnamed")
                raise ParseError(f"unsupported character {c!r} ({name}) at column {col}; "
                           "write it in plain text or LaTeX")
            i += 1
        out.extend(rep)
        cols.extend([col] * len(rep))
    return "".join(out), cols


