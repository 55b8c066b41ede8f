"""Notation presets: the names of the main textbooks and courses (``--notation NAME``).

A :class:`Notation` says how one course writes the network's symbols: which
number its input layer has (Nielsen's is 1, so his ``w^2_{jk}`` is symgrad's
``w1jk``), whether a bare superscript on a weight is a layer (``w^2_{jk}``) or a
power, which letters it uses (Ng's ``W``, ``A``, ``Z``; Goodfellow's ``a`` for the
pre-activation and ``h`` for the activation), the name of the cost (``C``, ``J``),
and which names stand for a derivative on their own (``delta^l_j``, Ng's ``dW``,
``dZ``).  Claims are read in the preset's notation and answers are shown in it.

This package imports nothing from the rest of :mod:`symgrad.claims`; the lexer and
the name table read it.

>>> get_notation("nielsen").show("w", 1, 1, 2)
'w^2_12'
>>> get_notation("ng").canonical("W111"), get_notation("ng").canonical("J")
('w111', 'C')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from symgrad.errors import SpecError, SpecTypeError

__all__ = ["NOTATIONS", "Notation", "get_notation", "output_spelling"]


@dataclass(frozen=True)
class Notation:
    """How one course names the network's symbols (see ``docs/claims.md#notation-presets``).

    ``first_layer``: the number the course gives the input layer (symgrad: 0).
    ``bare_layer``: an unbracketed superscript on a weight, bias or node name is the
    layer (``w^2_{11}``), not a power.  ``letters``: the course's letter for each of
    symgrad's (``{"W": "w"}``; a letter not listed keeps its meaning).  ``cost``: the
    course's name of the cost (read as symgrad's ``C``).  ``derivatives``: names that
    stand for a derivative on their own, each ``prefix: (kind, of)`` with ``kind`` one
    of ``z``, ``a``, ``w``, ``b`` and ``of`` ``"L"`` (one sample) or ``"C"`` (the cost):
    ``{"delta": ("z", "L")}`` makes ``delta11`` mean dL/dz11.  ``marks``: how a layer
    superscript is shown, ``"^{}"``, ``"^({})"`` or ``"^[{}]"`` (empty: plain names such
    as ``w111``).  ``shown``: the letter shown for each of symgrad's.
    """

    name: str
    source: str
    first_layer: int = 0
    bare_layer: bool = False
    letters: Mapping[str, str] = field(default_factory=dict)
    cost: str = "C"
    derivatives: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: {"delta": ("z", "L")})
    marks: str = ""
    shown: Mapping[str, str] = field(default_factory=dict)

    def canonical(self, flat: str) -> str:
        """A flattened name in symgrad's own names: ``W111`` -> ``w111``, ``J`` -> ``C``.

        Only the course's letter followed by indices is renamed, so ``yhat`` or
        ``tanh`` keep their meaning.
        """
        if flat == self.cost:
            return "C"
        m = re.fullmatch(r"([A-Za-z])([\d_]+)", flat)
        if m and m.group(1) in self.letters:
            return self.letters[m.group(1)] + m.group(2)
        return flat

    def layer(self, written: int) -> int:
        """symgrad's layer number of the course's layer ``written``."""
        return written - self.first_layer

    def stems(self) -> frozenset[str]:
        """Names that may carry a layer superscript: ``w``, ``a``, ``W``, ``delta``, ``dW``."""
        return frozenset({"w", "b", "z", "a", *self.letters, *self.derivatives})

    def show(self, kind: str, *indices: int) -> str:
        """The course's name of a weight (``kind`` ``w``), bias or node: ``W^[1]_11``."""
        letter = self.shown.get(kind, kind)
        if not self.marks:
            sep = "_" if any(i >= 10 for i in indices) else ""
            return letter + "".join(f"{sep}{i}" for i in indices)
        layer, rest = indices[0] + self.first_layer, indices[1:]
        sub = ",".join(map(str, rest)) if any(i >= 10 for i in rest) else "".join(map(str, rest))
        sub = f"{{{sub}}}" if "," in sub else sub
        return letter + self.marks.format(layer) + "_" + sub

    def name_of(self, net, sym) -> str:
        """``sym`` (a weight, bias or node of ``net``) in this notation's names."""
        if self.marks:
            if sym in net.weights:
                return self.show("w", *list(net.spec.weight_index())[net.weights.index(sym)])
            if sym in net.biases:
                return self.show("b", *net.neuron_of(sym))
            for l in range(1, net.depth + 1):
                for j in range(1, net.widths[l] + 1):
                    for kind in ("z", "a"):
                        if sym == (net.z_symbol if kind == "z" else net.a_symbol)(l, j):
                            return self.show(kind, l, j)
        return str(sym.name)

    def describe(self) -> str:
        """One line: the preset, its source and its main names, for messages."""
        w = self.show("w", 1, 1, 1)
        return (f"the {self.name} notation ({self.source}): input layer {self.first_layer}, "
                f"first weight {w}, cost {self.cost}")


_GRADIENTS_NG = {"delta": ("z", "L"), "dZ": ("z", "L"), "dz": ("z", "L"), "dA": ("a", "L"),
                 "da": ("a", "L"), "dW": ("w", "C"), "dw": ("w", "C"), "db": ("b", "C")}

#: The presets, by name.
NOTATIONS: dict[str, Notation] = {
    "default": Notation("default", "symgrad: w{l}{j}{k}, inputs are layer 0"),
    "nielsen": Notation(
        "nielsen", "Nielsen, Neural Networks and Deep Learning", first_layer=1,
        bare_layer=True, marks="^{}"),
    "ng": Notation(
        "ng", "Ng, Deep Learning Specialization", letters={"W": "w", "A": "a", "Z": "z",
                                                             "X": "x"},
        cost="J", derivatives=_GRADIENTS_NG, marks="^[{}]", shown={"w": "W"}),
    "goodfellow": Notation(
        "goodfellow", "Goodfellow, Bengio, Courville, Deep Learning, 6.5",
        letters={"W": "w", "a": "z", "h": "a"}, cost="J",
        marks="^({})",
        shown={"w": "W", "z": "a", "a": "h"}),
}

DEFAULT = NOTATIONS["default"]


def get_notation(notation: object = None) -> Notation:
    """The :class:`Notation` named ``notation`` (None: the default); a Notation passes."""
    if notation is None:
        return DEFAULT
    if isinstance(notation, Notation):
        return notation
    if not isinstance(notation, str):
        raise SpecTypeError(f"notation must be a name such as 'nielsen' or a Notation, got "
                            f"{type(notation).__name__}")
    if notation.lower() not in NOTATIONS:
        raise SpecError(f"unknown notation {notation!r}: choose one of "
                        f"{', '.join(NOTATIONS)}")
    return NOTATIONS[notation.lower()]


_PRIMED_Y = r"(?<![A-Za-z])y(?:_\{?[A-Za-z0-9]{1,3}\}?|[\u1d62\u2c7c])?\s*['\u2032\u2019]"
_OUTPUT_SPELLINGS = (("y'", re.compile(_PRIMED_Y)),
                     ("ŷ", re.compile("ŷ|y\u0302")),
                     ("\\hat{y}", re.compile(r"\\(?:wide)?hat\s*\{?\s*y")),
                     ("yhat", re.compile(r"(?<![A-Za-z])yhat")))


def output_spelling(text: str) -> str | None:
    """How a claim writes the network output, to answer in the same symbol.

    >>> output_spelling("dL/dw211 = (y - y')*z11"), output_spelling("dL/dw211 = z11")
    ("y'", None)
    """
    found = [(m.start(), name) for name, pattern in _OUTPUT_SPELLINGS
             for m in [pattern.search(text)] if m]
    return min(found)[1] if found else None
