"""The tree a matrix side is read into (:mod:`symgrad.claims.matrix.reader`).

A :class:`Node` is one operation or leaf; :meth:`Node.text` writes a tree back out
in plain text with few brackets (for verdicts and messages: ``W2^T delta2``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Binding strength of each operator, for writing a tree back out with few brackets.
_LEVEL = {"cmp": 0, "add": 1, "sub": 1, "had": 2, "prod": 3, "mul": 3, "div": 3, "neg": 4}
_SYMBOLS = {"prod": " ", "@": " @ ", "had": " ⊙ ", "mul": " * ", "div": "/", "add": " + ",
            "sub": " - "}


@dataclass(frozen=True)
class Node:
    """One node: ``kind`` (layer sym num T prod had mul div add sub neg pow fn sum
    npsum cmp), ``args`` (child nodes, or the payload of a leaf), the column, and for
    a product or comparison the operator as written (``""``, ``"@"``, ``">"``)."""

    kind: str
    args: tuple
    col: int
    op: str = ""

    def text(self) -> str:
        """The node written out in plain text (``W2^T delta2``), for messages."""
        k, a = self.kind, self.args
        if k == "layer":
            return a[0].text
        if k in ("sym", "num"):
            return str(a[-1])
        if k == "T":
            return f"{_wrapped(a[0])}^T"
        if k == "pow":
            return f"{_wrapped(a[0])}^{a[1]}"
        if k == "neg":
            return f"-{_wrapped(a[0], 4)}"
        if k == "fn":
            return f"{a[0]}({a[1].text()})"
        if k == "sum":
            return f"sum_i {_wrapped(a[0])}"
        if k == "npsum":
            keep = ", keepdims=True" if a[2] else ""
            return f"np.sum({a[0].text()}{'' if a[1] is None else f', axis={a[1]}'}{keep})"
        if k == "cmp":
            return f"{a[0].text()} {self.op} {a[1].text()}"
        sep = _SYMBOLS["@" if self.op == "@" else k]
        level = _LEVEL[k]
        return f"{_wrapped(a[0], level)}{sep}{_wrapped(a[1], level + (k in ('sub', 'div')))}"


def _wrapped(node: Node, level: int = 5) -> str:
    """``node``'s text, in brackets when it binds less tightly than ``level``."""
    return f"({node.text()})" if _LEVEL.get(node.kind, 9) < level else node.text()


__all__ = ["Node"]
