"""Hints for names that lack structure rather than spelling (``z`` alone, ``mean``).

Private helper of :mod:`symgrad.claims.names`: the unknown-name message asks these
first, so that ``dz/dw111`` on a one-output network suggests the output ``z21``.
"""

from __future__ import annotations

from symgrad.spec import symbol_name


def structure_hint(s, piece: str, kind_phrase) -> str | None:
    """A hint for ``piece`` on the network ``s`` (a Spec), or None.

    ``kind_phrase(name)`` says which names of ``name``'s kind exist.

    >>> from symgrad.spec import make_spec
    >>> structure_hint(make_spec([2, 2, 1]), "z", str)[:57]
    'z without indices; on the 2-2-1 network the output is z21'
    """
    if piece in ("z", "a", "w", "b", "x"):
        if piece in ("z", "a"):
            out = symbol_name(piece, s.depth, 1)
            if s.n_outputs == 1:
                return (f"{piece} without indices; on the {s.arch} network the output is "
                        f"{out} (also yhat), so did you mean {out!r} (the output) or "
                        f"'yhat'? Other nodes need their layer and neuron, "
                        f"{piece}{{l}}{{j}} as in {symbol_name(piece, 1, 1)}")
            return (f"{piece} without indices: name the node by layer and neuron, "
                    f"{piece}{{l}}{{j}} as in {symbol_name(piece, 1, 1)}")
        return f"{piece} without indices: {kind_phrase(piece + '1')}"
    if piece.lower() in ("mean", "avg", "average", "e", "expectation"):
        return ("a mean over samples is written \\frac{1}{m}\\sum_{i=1}^{m} (...) with "
                "sample-indexed names (x_{i1}, y_i, yhat_i), as the whole right side of a "
                "claim about C; for one sample, claim dL/dw without the mean")
    return None
