r"""The tokens only matrix claims have, for the claim lexer's matrix mode.

:func:`symgrad.claims.lexer.tokenize` with ``matrix=True`` asks :func:`scan` first at
each punctuation character: a transpose (``^T``, ``^\top``, ``^\intercal``,
``^{\mathsf T}``, ``^{\mathrm{T}}``, ``.T``) becomes a TRANSPOSE token, ``@`` an
operator, and a layer superscript right after a name of letters (``W^{(2)}``,
``\delta^{[1]}``, ``a^(1)``) the subscript of that name, so ``W^{(2)}`` reads as
``W2``.  ``\odot`` and ``\circ`` are the elementwise product (:data:`COMMANDS`).
This module imports nothing from symgrad: the lexer imports it.
"""

from __future__ import annotations

import re

_TRANSPOSE = re.compile(r"\^\s*(?:T|\\top(?![A-Za-z])|\\intercal(?![A-Za-z])|\{\s*(?:T|\\top"
                        r"|\\intercal|\\mathsf\s*\{\s*T\s*\}|\\mathsf\s+T|\\mathrm\s*\{\s*T\s*\}"
                        r"|\\mathrm\s+T)\s*\})")
_LAYER = re.compile(r"\^\s*(?:\{\s*[(\[]\s*(\d{1,3})\s*[)\]]\s*\}|[(\[]\s*(\d{1,3})\s*[)\]])")
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
    m = _LAYER.match(s, i)
    if m and previous is not None and previous.kind == "WORD" and previous.text.isalpha():
        return "SUB", m.group(1) or m.group(2), m.end()
    return None
