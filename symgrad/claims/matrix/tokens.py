r"""The tokens only matrix claims have, for the claim lexer's matrix mode.

:func:`symgrad.claims.lexer.tokenize` with ``matrix=True`` asks :func:`scan` first at
each punctuation character: a transpose (``^T``, ``^\top``, ``^\intercal``,
``^{\mathsf T}``, ``^{\mathrm{T}}``, ``.T``) becomes a TRANSPOSE token, ``@`` an
operator, and a layer superscript right after a name of letters (``W^{(2)}``,
``\delta^{[1]}``, ``a^(1)``) the subscript of that name, so ``W^{(2)}`` reads as
``W2`` (``A^{[1]T}``, as Ng writes it, is ``A1^T``).  A plain superscript number
is a layer too after a layer name that has none (:data:`STEMS`: ``w^3``,
``\delta^{2}``, ``a^2`` as Nielsen writes them); after a name with its layer
(``a1^2``) it stays a power.  ``\odot`` and ``\circ`` are the elementwise product
(:data:`COMMANDS`); ``np.`` before a name, commas between arguments and the
comparisons ``>``, ``>=``, ``<``, ``<=`` are numpy code's (``np.dot(dZ2, A1.T)``,
``(Z1 > 0)``).
This module imports nothing from symgrad: the lexer imports it.
"""

from __future__ import annotations

import re

_TRANSPOSE = re.compile(r"\^\s*(?:T|\\top(?![A-Za-z])|\\intercal(?![A-Za-z])|\{\s*(?:T|\\top"
                        r"|\\intercal|\\mathsf\s*\{\s*T\s*\}|\\mathsf\s+T|\\mathrm\s*\{\s*T\s*\}"
                        r"|\\mathrm\s+T)\s*\})")
_LAYER = re.compile(r"\^\s*(?:\{\s*[(\[]\s*(\d{1,3})\s*[)\]]\s*(T|\\top|\\intercal)?\s*\}"
                    r"|[(\[]\s*(\d{1,3})\s*[)\]])")
_PLAIN_LAYER = re.compile(r"\^\s*(?:\{\s*(\d{1,3})\s*\}|(\d{1,3})(?!\d))")
#: Layer names written without their layer: a plain superscript number is their layer.
STEMS = frozenset({"W", "w", "b", "z", "a", "delta", "dz", "da", "dW", "db",
                   "Z", "A", "Delta", "dZ", "dA"})
#: The names numpy code calls its module by (``np.dot``).
NUMPY = ("np", "numpy")
#: LaTeX commands of matrix mode and the operator each one is.
COMMANDS = {"odot": "⊙", "circ": "⊙"}


def scan(s: str, i: int, previous) -> tuple[str, str, int] | None:
    """``(kind, text, end)`` of the matrix token at ``s[i]``, or None.

    ``previous`` is the token before (a layer superscript needs a WORD of letters).
    """
    m = _TRANSPOSE.match(s, i)
    if m or (s[i:i + 2] == ".T" and not s[i + 2:i + 3].isalnum()):
        return "TRANSPOSE", "T", m.end() if m else i + 2
    if s[i] == "@":
        return "OP", "@", i + 1
    if s[i] in "<>":                                  # (Z1 > 0): numpy's 0/1 mask
        return ("CMP", s[i:i + 2], i + 2) if s[i + 1:i + 2] == "=" else ("CMP", s[i], i + 1)
    if s[i] == ",":                                   # between a numpy call's arguments
        return "COMMA", ",", i + 1
    if s[i] == "." and previous is not None and previous.kind == "WORD" \
            and previous.text in NUMPY:               # np.dot(...): numpy's namespace
        return "NPDOT", ".", i + 1
    if s[i] == "." and s[i + 1:i + 2].isalpha() and previous is not None \
            and previous.kind in ("WORD", "SUB", "RP", "TRANSPOSE"):    # dZ1.sum(...)
        return "METHOD", ".", i + 1
    word = previous.text if previous is not None and previous.kind == "WORD" else ""
    m = _LAYER.match(s, i)
    if m and word.isalpha():        # A^{[1]T}, as Ng writes it: layer 1, transposed
        return "SUBT" if m.group(2) else "SUB", m.group(1) or m.group(3), m.end()
    m = _PLAIN_LAYER.match(s, i)
    if m and (word in STEMS or word[:1] == "d" and word[1:] in STEMS):    # dw^3: d w3
        return "SUB", m.group(1) or m.group(2), m.end()
    return None
