"""What is wrong with a matrix claim: the single repair of the written expression that
makes every entry right.

The repairs tried, in order: a constant factor (a wrong sign, a missing ``1/m``);
``W`` for ``W^T`` and back; the whole right side transposed; a missing ``f'(z_l)``;
``z`` for ``a`` (and ``f'(a)`` for ``f'(z)``); a matrix product for an elementwise
one and back; another layer's name; an extra ``f'``; any other transpose.  Each
candidate is computed with its shapes checked and compared with the truth at a few
random points; the first that agrees everywhere names the mistake, with a kind
from :data:`symgrad.claims.diagnose.KINDS`.  When none does, the first wrong entry
gets the scalar diagnosis of :func:`symgrad.claims.verify.verify_expression`.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from symgrad.claims.diagnose import Diagnosis
from symgrad.claims.equivalence import agree, constant_ratio
from symgrad.claims.matrix.algebra import shape_text, value
from symgrad.claims.matrix.layers import Ref
from symgrad.claims.matrix.tree import Node
from symgrad.claims.points import random_points
from symgrad.errors import ParseError

#: Largest number of repaired expressions tried on one claim.
MAX_REPAIRS = 80
_NAMES = {"W": "W", "b": "b", "z": "z", "a": "a", "delta": "delta", "da": "da"}
_BATCH = {"W": "W", "b": "b", "z": "Z", "a": "A", "delta": "dZ", "da": "dA"}


def _children(node: Node) -> list[int]:
    """Positions in ``node.args`` that hold child nodes."""
    return [i for i, a in enumerate(node.args) if isinstance(a, Node)]


def _walk(node: Node, path=()):
    yield path, node
    for i in _children(node):
        yield from _walk(node.args[i], path + (i,))


def _put(node: Node, path, new: Node) -> Node:
    if not path:
        return new
    args = list(node.args)
    args[path[0]] = _put(args[path[0]], path[1:], new)
    return replace(node, args=tuple(args))


def _renamed(ref: Ref, layer: int, layers) -> Ref:
    if ref.kind == "a" and layer == 0:
        return Ref("a", 0, "X" if layers.batch else "x")
    stem = (_BATCH if layers.batch else _NAMES)[ref.kind]
    return Ref(ref.kind, layer, f"{stem}{layer}")


def _leaf(ref: Ref, col: int) -> Node:
    return Node("layer", (ref,), col)


def _candidates(claim, layers):
    """``(tree, kind, detail)`` for each single repair of the right side."""
    tree = claim.rhs
    target, L = claim.target, layers.net.depth
    spots = list(_walk(tree))
    for path, n in spots:                                     # W <-> W^T
        if n.kind == "layer" and n.args[0].kind == "W":
            up = _parent(tree, path)
            if up is not None and up.kind == "T":
                continue
            yield (_put(tree, path, Node("T", (n,), n.col)), "transposed-index",
                   f"used {n.text()} where {n.text()}^T belongs")
        if n.kind == "T" and n.args[0].kind == "layer" and n.args[0].args[0].kind == "W":
            yield (_put(tree, path, n.args[0]), "transposed-index",
                   f"used {n.text()} where {n.args[0].text()} belongs")
    yield (Node("T", (tree,), tree.col), "transposed-index",
           f"the right side is the transpose of {target.text} (a gradient has the shape of "
           "what it differentiates by)")
    layers_tried = [target.layer] + [l for l in range(L, 0, -1) if l != target.layer]
    for path, n in spots:                                     # a missing f'(z_l)
        for l in layers_tried:
            if l < 1:
                continue
            z = _leaf(_renamed(Ref("z", l, ""), l, layers), n.col)
            fp = Node("fn", ("f'", z), n.col)
            yield (_put(tree, path, Node("had", (n, fp), n.col)), "pre-activation",
                   f"missing the activation derivative: {n.text()} needs ⊙ {fp.text()}")
    for path, n in spots:                                     # z <-> a, f'(a) -> f'(z)
        if n.kind == "layer" and n.args[0].kind in ("z", "a") and n.args[0].layer >= 1:
            ref = n.args[0]
            other = _renamed(Ref("a" if ref.kind == "z" else "z", ref.layer, ""), ref.layer,
                             layers)
            word = "the activation" if ref.kind == "z" else "the pre-activation"
            yield (_put(tree, path, _leaf(other, n.col)), "pre-activation",
                   f"{ref.text} used where {other.text} ({word}) belongs")
    for path, n in spots:                                     # product <-> elementwise
        if n.kind == "prod":
            yield (_put(tree, path, replace(n, kind="had", op="")), "other",
                   f"matrix product {n.text()} where the elementwise product belongs")
        elif n.kind in ("had", "mul"):
            yield (_put(tree, path, replace(n, kind="prod", op="")), "other",
                   f"elementwise product {n.text()} where the matrix product belongs")
    for path, n in spots:                                     # another layer
        if n.kind == "layer" and n.args[0].kind in _NAMES:
            ref = n.args[0]
            low = 0 if ref.kind in ("a", "da") else 1
            for l in range(low, L + 1):
                if l != ref.layer:
                    new = _renamed(ref, l, layers)
                    yield (_put(tree, path, _leaf(new, n.col)), "wrong-parameter",
                           f"{ref.text} where {new.text} belongs (the wrong layer)")
    for path, n in spots:                                     # an extra factor
        if n.kind in ("had", "mul", "prod"):
            for keep in (0, 1):
                yield (_put(tree, path, n.args[keep]), "extra-factor",
                       f"extra factor {n.args[1 - keep].text()}")
    for path, n in spots:                                     # any other transpose
        if n.kind == "T" and not (n.args[0].kind == "layer"
                                  and n.args[0].args[0].kind == "W"):
            yield (_put(tree, path, n.args[0]), "transposed-index",
                   f"{n.text()} where {n.args[0].text()} belongs")
        elif n.kind == "layer" and n.args[0].kind != "W":
            yield (_put(tree, path, Node("T", (n,), n.col)), "transposed-index",
                   f"{n.text()} where {n.text()}^T belongs")


def _parent(tree: Node, path):
    if not path:
        return None
    node = tree
    for i in path[:-1]:
        node = node.args[i]
    return node


class _Checker:
    """Compares candidate matrices with the truth at a few random points."""

    def __init__(self, layers, true, order, seed: int = 1):
        self.defs = layers.definitions
        self.true = [e.xreplace(self.defs) for e in true]
        self.shape = true.shape
        self.points = random_points(layers.symbols, 3, seed)
        self.order = order                       # the wrong entries first: quick rejection

    def right(self, matrix) -> bool:
        if matrix.shape != self.shape:
            return False
        return all(agree(matrix[i].xreplace(self.defs), self.true[i], self.points)
                   for i in self.order)


def diagnose_matrix(layers, claim, claimed, true, wrong: list, show) -> Diagnosis:
    """The diagnosis of a wrong matrix claim (``wrong``: the wrong entries' flat indices)."""
    order = wrong + [i for i in range(len(true)) if i not in wrong]
    check = _Checker(layers, true, order)
    first = wrong[0]
    c = constant_ratio(claimed[first].xreplace(check.defs), check.true[first], check.points)
    if c is not None and c != 1 and check.right(claimed / c):   # c = 1: the sides agree at
        return _scale(c, layers, claim)                       # the checker's points
    for count, (tree, kind, detail) in enumerate(_candidates(claim, layers)):
        if count >= MAX_REPAIRS:
            break
        try:
            fixed = value(tree, layers)
        except ParseError:
            continue
        if fixed.shape is not None and check.right(fixed.expr):
            return Diagnosis(kind, f"{detail}; {claim.target.text} = {tree.text()} is right")
    return _entry_diagnosis(layers, claim, claimed, first, true.shape, show)


def _scale(c, layers, claim) -> Diagnosis:
    if c == -1:
        squared = layers.net.loss_name in ("half-squared", "squared")
        return Diagnosis("sign", "wrong sign: claimed = -true" + (
            " (the loss (y - yhat)**2/2 gives dL/dyhat = yhat - y, not y - yhat)"
            if squared else ""))
    kind = "scale" if c > 0 else "sign+scale"
    if layers.batch and abs(c) in (layers.m, sp.Rational(1, layers.m)):
        what = "missing" if abs(c) == layers.m else "extra"
        return Diagnosis(kind, f"{what} 1/m: claimed = {c}*true on a batch of m = {layers.m} "
                               "(dW and db are gradients of the cost C, the mean over the "
                               "samples; dZ and dA are each sample's own, without 1/m)")
    return Diagnosis(kind, f"claimed = {c}*true")


def _entry_diagnosis(layers, claim, claimed, index, shape, show) -> Diagnosis:
    """No single repair fits: the scalar diagnosis of the first wrong entry, if one sample."""
    from symgrad.claims.matrix.sides import entry_label
    from symgrad.claims.verify import verify_expression

    row, col = divmod(index, shape[1])
    label = entry_label(layers, claim, row, col, show.template)
    general = Diagnosis("other", "no single change (W for W^T, a product for ⊙, a missing "
                                 "f', another layer) makes the claim right; compare the "
                                 f"wrong entries, first {label}")
    if layers.batch:
        return general
    by = layers.net.symbols.get(label.split("/d", 1)[1].split()[0])
    if by is None:
        return general
    scalar = verify_expression(layers.net, "L", by, claimed[index], points=4,
                               weight_template=show.template)
    if scalar.diagnosis is None or scalar.diagnosis.kind == "other":
        return general
    return Diagnosis(scalar.diagnosis.kind, f"entry {label}: {scalar.diagnosis.detail}")


def transposed(layers, claim, claimed, true) -> Diagnosis:
    """The diagnosis of a right side shaped like the transpose of the gradient."""
    check = _Checker(layers, true, list(range(len(true))))
    target = claim.target.text
    shapes = (f"{target} is {shape_text(true.shape)}, the right side "
              f"{shape_text(claimed.shape)}")
    if check.right(claimed.T):
        return Diagnosis("transposed-index",
                         f"the right side is the transpose of {target} ({shapes}); a gradient "
                         f"has the shape of what it differentiates by: "
                         f"{target} = ({claim.rhs.text()})^T is right")
    return Diagnosis("transposed-index", f"the right side has the transposed shape ({shapes}), "
                                         "and its entries differ from the gradient's too")

