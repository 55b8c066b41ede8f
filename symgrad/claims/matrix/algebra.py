"""The value of a matrix expression (:mod:`symgrad.claims.matrix.reader`), shapes first.

Every operation checks its shapes before it computes anything: a product or sum
that does not fit is a :class:`~symgrad.errors.ParseError` naming both shapes and,
where transposing one operand would make them fit, saying so ("W2 (1×3) times
delta2 (1×1) is undefined; did you mean W2^T delta2?").  Entries are SymPy
expressions in the network's intermediate names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from symgrad import activations
from symgrad.claims.build import _fn
from symgrad.claims.lexer import fail
from symgrad.claims.matrix.tree import Node

#: Largest number of entries of one matrix in a claim (each entry is decided on its own).
MAX_ENTRIES = 400


@dataclass(frozen=True)
class Value:
    """A scalar (``shape`` None, ``expr`` an Expr) or a matrix (``expr`` an ImmutableMatrix)."""

    shape: tuple[int, int] | None
    expr: Any


def shape_text(shape) -> str:
    return "scalar" if shape is None else f"{shape[0]}×{shape[1]}"


def value(node: Node, layers) -> Value:
    """Compute ``node``; ParseError when shapes do not fit (see the module notes)."""
    k, a = node.kind, node.args
    if k == "layer":
        shape = layers.shape(a[0])
        if shape[0] * shape[1] > MAX_ENTRIES:
            raise fail(f"{a[0].text} has {shape[0] * shape[1]:,} entries; matrix claims are "
                       f"checked entry by entry, up to {MAX_ENTRIES}")
        return Value(shape, layers.entries(a[0]))
    if k in ("sym", "num"):
        if k == "sym" and layers.batch and a[0] not in layers.net.parameters:
            raise fail(f"{a[0]} at column {node.col} is one sample's; in a batch claim use "
                       "the batch names (X, Z1, A1, ...) or parameters")
        return Value(None, a[0])
    if k == "T":
        v = value(a[0], layers)
        return v if v.shape is None else Value(v.shape[::-1], v.expr.T)
    if k == "neg":
        v = value(a[0], layers)
        return Value(v.shape, -v.expr)
    if k == "pow":
        v = value(a[0], layers)
        return _entrywise(v, lambda e: e ** a[1])
    if k == "fn":
        return _function(node, layers)
    if k == "sum":
        v = value(a[0], layers)
        if v.shape is None or not layers.batch:
            raise fail(f"the sum at column {node.col} adds up the samples of a batch; give "
                       "it a batch matrix such as dZ1 (and --layout columns or rows)")
        rows = layers.layout == "rows"
        summed = [sum(v.expr.row(r) if not rows else v.expr.col(r)) for r in
                  range(v.shape[1] if rows else v.shape[0])]
        return Value((1, len(summed)) if rows else (len(summed), 1),
                     sp.ImmutableMatrix(1 if rows else len(summed), len(summed) if rows else 1,
                                        summed))
    if k == "npsum":
        return _numpy_sum(node, value(a[0], layers))
    left, right = value(a[0], layers), value(a[1], layers)
    if k == "prod":
        return _product(node, left, right)
    if k == "had":
        return _hadamard(node, left, right)
    return _broadcast(node, left, right)


def _entrywise(v: Value, f) -> Value:
    if v.shape is None:
        return Value(None, f(v.expr))
    return Value(v.shape, v.expr.applyfunc(f))


def _fix(node: Node, side: int, layers_fit) -> str:
    """``did you mean ...`` when transposing one operand makes the shapes fit."""
    for i in (side, 1 - side):
        parts = list(node.args)
        # transposing a transpose gives back its argument: suggest dZ1 @ X, not dZ1^T^T @ X
        parts[i] = parts[i].args[0] if parts[i].kind == "T" else Node("T", (parts[i],),
                                                                        node.col)
        if layers_fit(parts[i], i):
            return f"; did you mean {replace(node, args=tuple(parts)).text()}?"
    return ""


def _product(node: Node, left: Value, right: Value) -> Value:
    if left.shape is None or right.shape is None:
        return Value(left.shape or right.shape, left.expr * right.expr)
    (r1, c1), (r2, c2) = left.shape, right.shape
    if c1 == r2:
        return Value((r1, c2), left.expr * right.expr)
    a, b = node.args

    def fits(_, i):
        return (r1 if i == 0 else c1) == (c2 if i == 1 else r2)

    hint = _fix(node, 0, fits)
    if left.shape == right.shape:
        hint = f"; for the elementwise product write {replace(node, kind='had').text()}"
    raise fail(f"{a.text()} ({shape_text(left.shape)}) times {b.text()} "
               f"({shape_text(right.shape)}) is undefined{hint}")


def _hadamard(node: Node, left: Value, right: Value) -> Value:
    if left.shape is None or right.shape is None:
        return Value(left.shape or right.shape, left.expr * right.expr)
    if left.shape == right.shape:
        return Value(left.shape, left.expr.multiply_elementwise(right.expr))
    a, b = node.args
    hint = _fix(node, 1, lambda _, i: (left.shape[::-1] if i == 0 else left.shape)
                == (right.shape if i == 0 else right.shape[::-1]))
    raise fail(f"{a.text()} ({shape_text(left.shape)}) ⊙ {b.text()} "
               f"({shape_text(right.shape)}): the elementwise product needs equal shapes{hint}")


_OPS = {"mul": lambda u, v: u * v, "div": lambda u, v: u / v,
        "add": lambda u, v: u + v, "sub": lambda u, v: u - v}
_WORDS = {"mul": "times", "div": "divided by", "add": "plus", "sub": "minus",
          "cmp": "compared with"}
#: numpy's comparisons as 0/1 values, through the step relu's derivative is (0 at 0).
_COMPARE = {">": lambda u, v: activations.step(u - v),
            ">=": lambda u, v: 1 - activations.step(v - u),
            "<": lambda u, v: activations.step(v - u),
            "<=": lambda u, v: 1 - activations.step(u - v)}


def _broadcast(node: Node, left: Value, right: Value) -> Value:
    """``*``, ``/``, ``+``, ``-`` and comparisons, entrywise with numpy broadcasting."""
    op: Callable[[Any, Any], Any] = _COMPARE[node.op] if node.kind == "cmp" else _OPS[node.kind]
    if left.shape is None and right.shape is None:
        if node.kind == "div" and right.expr == 0:
            raise fail(f"division by zero at column {node.col}")
        return Value(None, op(left.expr, right.expr))
    s1, s2 = left.shape or (1, 1), right.shape or (1, 1)
    shape = []
    for d1, d2 in zip(s1, s2):
        if d1 != d2 and 1 not in (d1, d2):
            a, b = node.args
            hint = _fix(node, 1, lambda _, i: _broadcasts(s1[::-1] if i == 0 else s1,
                                                          s2 if i == 0 else s2[::-1]))
            raise fail(f"{a.text()} ({shape_text(left.shape)}) {_WORDS[node.kind]} "
                       f"{b.text()} ({shape_text(right.shape)}): the shapes do not match "
                       f"(numpy's broadcasting rules){hint}")
        shape.append(max(d1, d2))

    def at(v: Value, i: int, j: int):
        if v.shape is None:
            return v.expr
        return v.expr[i if v.shape[0] > 1 else 0, j if v.shape[1] > 1 else 0]

    entries = [[op(at(left, i, j), at(right, i, j)) for j in range(shape[1])]
               for i in range(shape[0])]
    if any(e.has(sp.zoo) for row in entries for e in row):
        raise fail(f"division by zero at column {node.col}")
    return Value((shape[0], shape[1]), sp.ImmutableMatrix(entries))


def _broadcasts(s1, s2) -> bool:
    return all(d1 == d2 or 1 in (d1, d2) for d1, d2 in zip(s1, s2))


def _function(node: Node, layers) -> Value:
    name, arg = node.args
    v = value(arg, layers)
    if name != "f'":
        return _entrywise(v, lambda e: _fn(name, e))
    entries = [v.expr] if v.shape is None else list(v.expr)
    found = {layers.layer_of(e) for e in entries}
    if None in found or len({layer for _, layer in found}) != 1:
        raise fail(f"f' at column {node.col} takes a layer's z (or a), as in f'(z1): it is "
                   f"that layer's activation derivative; for another argument name the "
                   "function, as in sigma'(...) or tanh'(...)")
    layer = next(iter(found))[1]
    act = layers.net.activations[layer - 1]
    if act == "softmax":
        raise fail(f"f' at column {node.col}: the softmax layer {layer} couples its outputs, "
                   "so its derivative is a Jacobian, not an entrywise f'; with the "
                   f"cross-entropy loss, delta{layer} = a{layer} - y")

    def slope(e):
        if layers.layer_of(e)[0] == "z":        # f'(z) written with a = f(z), as derive does
            return activations.derivative(act, e, sp.Symbol("a" + e.name[1:], real=True))
        return activations.derivative(act, e, activations.forward(act, e))

    return _entrywise(v, slope)


def _numpy_sum(node: Node, v: Value) -> Value:
    """``np.sum(M, axis, keepdims)``: a 1-D result that numpy would broadcast wrongly
    (``(n,)`` against an ``n x 1`` column gives ``n x n``) is refused, with the fix."""
    arg, axis, keep = node.args
    if v.shape is None:
        return v
    M = v.expr
    if axis is None:
        total = sum(M)
        return Value((1, 1), sp.ImmutableMatrix([[total]])) if keep else Value(None, total)
    rows, cols = v.shape
    if axis == 0:
        n, out = cols, Value((1, cols), sp.ImmutableMatrix(1, cols, [sum(M.col(j))
                                                                    for j in range(cols)]))
    else:
        n, out = rows, Value((rows, 1), sp.ImmutableMatrix(rows, 1, [sum(M.row(i))
                                                                    for i in range(rows)]))
    if not keep and n > 1:
        raise fail(f"np.sum({arg.text()}, axis={axis}) at column {node.col} is 1-D, shape "
                   f"({n},): numpy broadcasts it against a {n}×1 column to {n}×{n}; add "
                   "keepdims=True")
    return out
