r"""Matrix expressions: a grammar of their own over the claim lexer's tokens, shapes first.

The grammar, loosest binding first::

    expr     := hadamard (('+' | '-') hadamard)*
    hadamard := product (('⊙' | '\odot' | '\circ') product)*
    product  := unary ((juxtaposition | '@' | '*' | '/') unary)*    # left to right
    unary    := '-' unary | postfix
    postfix  := primary ('^T' | '^\top' | '^{\mathsf T}' | '.T' | '^' integer)*
    primary  := number | name | '(' expr ')' | '{' expr '}' | \frac{expr}{expr}
              | function argument | \sum_i unary

Juxtaposition and ``@`` are the matrix product; ``⊙`` is the elementwise
(Hadamard) product of equal shapes; ``*``, ``/``, ``+`` and ``-`` are elementwise
with numpy's broadcasting (a 1 x n row against an m x n matrix, a scalar against
anything), so ``Z1 = X @ W1.T + b1`` reads as in numpy.  ``^2`` is elementwise too
(numpy's ``**``).  ``f'(z1)`` (also ``g'``) is the derivative of layer 1's
activation, ``sigma'(...)``, ``tanh'(...)``, ``sigma(...)``, ``exp(...)`` apply
entrywise; ``\sum_i M`` adds up the samples of a batch.

:func:`read` gives a tree of :class:`Node`; :func:`value` computes it, checking
every shape: a product or sum that does not fit is a :class:`~symgrad.errors.ParseError`
naming both shapes and, where one transposition would fix it, saying so.  Nothing
here evaluates text: names come from :class:`~symgrad.claims.matrix.layers.MatrixNames`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import sympy as sp

from symgrad import activations
from symgrad.claims.build import _fn
from symgrad.claims.lexer import LIMITS, fail
from symgrad.claims.nodes import flatten_name
from symgrad.errors import ParseError

_STARTS = ("NUM", "WORD", "LP", "LB", "FRAC", "SUM")
#: Largest number of entries of one matrix in a claim (each entry is decided on its own).
MAX_ENTRIES = 400
#: Binding strength of each operator, for writing a tree back out with few brackets.
_LEVEL = {"add": 1, "sub": 1, "had": 2, "prod": 3, "mul": 3, "div": 3, "neg": 4}
_SYMBOLS = {"prod": " ", "@": " @ ", "had": " ⊙ ", "mul": " * ", "div": "/", "add": " + ",
            "sub": " - "}


@dataclass(frozen=True)
class Node:
    """One node: ``kind`` (layer sym num T prod had mul div add sub neg pow fn sum),
    ``args`` (child nodes, or the payload of a leaf), the column, and for a product
    the operator as written (``""`` or ``"@"``)."""

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
        sep = _SYMBOLS["@" if self.op == "@" else k]
        level = _LEVEL[k]
        return f"{_wrapped(a[0], level)}{sep}{_wrapped(a[1], level + (k in ('sub', 'div')))}"


def _wrapped(node: Node, level: int = 5) -> str:
    """``node``'s text, in brackets when it binds less tightly than ``level``."""
    return f"({node.text()})" if _LEVEL.get(node.kind, 9) < level else node.text()


class Reader:
    """Recursive descent over the tokens of one side (ending in END)."""

    def __init__(self, tokens, names):
        self.toks, self.pos, self.names = tokens, 0, names
        self.count, self.depth = 0, 0

    def peek(self):
        return self.toks[self.pos]

    def take(self):
        tok = self.toks[self.pos]
        if tok.kind != "END":
            self.pos += 1
        return tok

    def node(self, kind, args, col, op=""):
        self.count += 1
        if self.count > LIMITS["max_nodes"]:
            raise fail(f"expression too large (more than {LIMITS['max_nodes']:,} parts); "
                       "split it into smaller claims")
        return Node(kind, tuple(args), col, op)

    def op_is(self, *texts) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text in texts

    def unexpected(self, wanted: str) -> ParseError:
        tok = self.peek()
        if tok.kind == "END":
            return fail(f"the expression ends too early: expected {wanted}")
        return fail(f"unexpected {tok.text!r} at column {tok.col}; expected {wanted}")

    def parse(self) -> Node:
        tree = self.expr()
        if self.peek().kind != "END":
            raise self.unexpected("an operator such as +, ⊙ or @")
        return tree

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > LIMITS["max_depth"]:
            raise fail(f"expression nested more than {LIMITS['max_depth']} levels deep at "
                       f"column {self.peek().col}; simplify it")
        left = self.hadamard()
        while self.op_is("+", "-"):
            tok = self.take()
            left = self.node("add" if tok.text == "+" else "sub", (left, self.hadamard()),
                             tok.col)
        self.depth -= 1
        return left

    def hadamard(self) -> Node:
        left = self.product()
        while self.op_is("⊙"):
            tok = self.take()
            left = self.node("had", (left, self.product()), tok.col)
        return left

    def product(self) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.text in ("@", "*", "/"):
                self.take()
                kind = {"@": "prod", "*": "mul", "/": "div"}[tok.text]
                left = self.node(kind, (left, self.unary()), tok.col, tok.text)
            elif tok.kind in _STARTS:
                left = self.node("prod", (left, self.postfix()), tok.col)
            else:
                return left

    def unary(self) -> Node:
        if self.op_is("-", "+"):
            tok = self.take()
            inner = self.unary()
            return self.node("neg", (inner,), tok.col) if tok.text == "-" else inner
        if self.peek().kind in ("END", "OP"):
            raise self.unexpected("a name, a number or '('")
        return self.postfix()

    def postfix(self) -> Node:
        base = self.primary()
        while True:
            tok = self.peek()
            if tok.kind == "TRANSPOSE":
                self.take()
                base = self.node("T", (base,), tok.col)
            elif tok.kind == "OP" and tok.text == "^":
                self.take()
                braced = self.peek().kind == "LB"
                if braced:
                    self.take()
                power = self.take()
                if power.kind != "NUM" or not power.text.isdigit() or int(power.text) > 64 \
                        or (braced and self.take().kind != "RB"):
                    raise fail(f"'^' at column {tok.col}: in a matrix claim '^' is a "
                               "transpose (^T, ^\\top, .T) or an elementwise power by a whole "
                               "number up to 64, as in a1^2")
                base = self.node("pow", (base, int(power.text)), tok.col)
            else:
                return base

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "NUM":
            self.take()
            return self.node("num", (sp.Rational(Fraction(tok.text)),), tok.col)
        if tok.kind in ("LP", "LB"):
            return self.group()
        if tok.kind == "FRAC":
            self.take()
            num, den = self.group_of("LB"), self.group_of("LB")
            return self.node("div", (num, den), tok.col)
        if tok.kind == "SUM":
            self.take()
            if self.peek().kind == "SUB":
                self.take()
            return self.node("sum", (self.unary(),), tok.col)
        if tok.kind == "WORD":
            return self.name()
        raise self.unexpected("a name, a number or '('")

    def group_of(self, kind: str) -> Node:
        if self.peek().kind != kind:
            raise self.unexpected("a braced part, as in \\frac{1}{m}")
        return self.group()

    def group(self) -> Node:
        open_ = self.take()
        inner = self.expr()
        closer = "RB" if open_.kind == "LB" else "RP"
        if self.peek().kind != closer:
            raise fail(f"{open_.text!r} at column {open_.col} is not closed")
        self.take()
        return inner

    def name(self) -> Node:
        first = self.peek()
        parts = [self.take()]
        while self.peek().kind in ("SUB", "PRIME"):
            parts.append(self.take())
        flat = flatten_name(parts)
        try:
            pieces = self.names.segment(flat)
        except ParseError as exc:
            raise fail(str(exc).replace(":", f" at column {first.col}:", 1)) from None
        nodes = []
        for i, hit in enumerate(pieces):
            if hit[0] == "fn":
                nodes.append(self.call(hit[1], first))
            else:
                nodes.append(self.leaf(hit, first, flat))
            if i:
                nodes[-2:] = [self.node("prod", tuple(nodes[-2:]), first.col)]
        return nodes[0]

    def leaf(self, hit, tok, flat) -> Node:
        kind = hit[0]
        if kind == "layer":
            return self.node("layer", (hit[1],), tok.col)
        if kind == "sym":
            return self.node("sym", (hit[1],), tok.col)
        if kind == "batch":
            if not self.names.layers.batch:
                raise fail(f"{hit[1]!r} at column {tok.col} is the batch size; this claim is "
                           "about one sample (give --layout columns or rows for a batch)")
            return self.node("num", (sp.Integer(self.names.layers.m), hit[1]), tok.col)
        if kind == "e":
            return self.node("sym", (sp.E,), tok.col)
        raise fail(f"{flat!r} at column {tok.col} cannot be used in a matrix expression")

    def call(self, name: str, tok) -> Node:
        nxt = self.peek()
        if nxt.kind in ("LP", "LB"):
            arg = self.group()
        elif nxt.kind in _STARTS:
            arg = self.postfix()
        else:
            raise fail(f"function {name!r} at column {tok.col} needs an argument, e.g. "
                       f"{name}(z1)")
        return self.node("fn", (name, arg), tok.col)


def read(tokens, names) -> Node:
    """The tree of one side's tokens (ending in END)."""
    return Reader(tokens, names).parse()


# -- values and shapes ----------------------------------------------------------------
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
        parts[i] = Node("T", (parts[i],), node.col)
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
_WORDS = {"mul": "times", "div": "divided by", "add": "plus", "sub": "minus"}


def _broadcast(node: Node, left: Value, right: Value) -> Value:
    """``*``, ``/``, ``+``, ``-`` entrywise with numpy broadcasting."""
    op = _OPS[node.kind]
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
    act = layers.net.activations[next(iter(found))[1] - 1]

    def slope(e):
        if layers.layer_of(e)[0] == "z":        # f'(z) written with a = f(z), as derive does
            return activations.derivative(act, e, sp.Symbol("a" + e.name[1:], real=True))
        return activations.derivative(act, e, activations.forward(act, e))

    return _entrywise(v, slope)
