r"""Matrix expressions: a grammar of their own over the claim lexer's tokens, shapes first.

The grammar, loosest binding first::

    compare  := expr (('>' | '>=' | '<' | '<=') expr)?     # a side, a bracket, an argument
    expr     := hadamard (('+' | '-') hadamard)*
    hadamard := product (('⊙' | '\odot' | '\circ') product)*
    product  := unary ((juxtaposition | '@' | '*' | '/') unary)*    # left to right
    unary    := '-' unary | postfix
    postfix  := primary ('^T' | '^\top' | '^{\mathsf T}' | '.T' | '^' integer)*
    primary  := number | name | '(' expr ')' | '{' expr '}' | \frac{expr}{expr}
              | function argument | \sum_i unary | np.function '(' arguments ')'

Juxtaposition and ``@`` are the matrix product; ``⊙`` is the elementwise
(Hadamard) product of equal shapes; ``*``, ``/``, ``+`` and ``-`` are elementwise
with numpy's broadcasting (a 1 x n row against an m x n matrix, a scalar against
anything), so ``Z1 = X @ W1.T + b1`` reads as in numpy.  ``^2`` is elementwise too
(numpy's ``**``).  ``f'(z1)`` (also ``g'``) is the derivative of layer 1's
activation, ``sigma'(...)``, ``tanh'(...)``, ``sigma(...)``, ``exp(...)`` apply
entrywise; ``\sum_i M`` adds up the samples of a batch.  numpy calls read as
numpy computes them (:data:`NUMPY_CALLS`): ``np.dot``/``np.matmul`` (the matrix
product), ``np.multiply`` and friends (entrywise, broadcasting), ``np.power``,
``np.square``, ``np.transpose``, ``np.tanh``/``np.exp``/``np.log`` and
``np.sum(M, axis=..., keepdims=...)``; a comparison such as ``(Z1 > 0)`` is numpy's
mask, 1 where it holds and 0 elsewhere (so ReLU's derivative, 0 at 0 as symgrad takes it).

:func:`read` gives a tree of :class:`Node`, which
:func:`symgrad.claims.matrix.algebra.value` computes with every shape checked.
Nothing here evaluates text: names come from
:class:`~symgrad.claims.matrix.layers.MatrixNames`.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from symgrad.claims.grammar import Cursor
from symgrad.claims.lexer import LIMITS, fail
from symgrad.claims.matrix.tree import Node
from symgrad.claims.nodes import flatten_name
from symgrad.errors import ParseError

_STARTS = ("NUM", "WORD", "LP", "LB", "FRAC", "SUM")
#: numpy functions of two matrices, and the node each one is.
_NUMPY_BINARY = {"dot": "prod", "matmul": "prod", "multiply": "mul", "divide": "div",
                 "add": "add", "subtract": "sub"}
#: Every numpy function a matrix claim reads (``np.`` or ``numpy.`` before it).
NUMPY_CALLS = frozenset({*_NUMPY_BINARY, "sum", "power", "square", "transpose", "tanh",
                         "exp", "log"})
#: numpy array methods read (``dZ1.sum(axis=1, keepdims=True)``, ``A.dot(B)``).
NUMPY_METHODS = frozenset({"sum", "dot", "transpose"})
#: The keywords each numpy function takes here.
NUMPY_KEYWORDS = {"sum": ("axis", "keepdims")}
#: Deepest tree of operations a matrix side may build (chains of signs, transposes
#: and terms nest one node per operation; evaluation walks the tree recursively).
MAX_HEIGHT = 5 * LIMITS["max_depth"]


class Reader(Cursor):
    """Recursive descent over the tokens of one side (ending in END)."""

    def __init__(self, tokens, names):
        super().__init__(tokens)
        self.names = names
        self.count, self.depth = 0, 0
        self.heights: dict[int, int] = {}     # id(node) -> operations below it, itself too

    def node(self, kind, args, col, op=""):
        self.count += 1
        if self.count > LIMITS["max_nodes"]:
            raise fail(f"expression too large (more than {LIMITS['max_nodes']:,} parts); "
                       "split it into smaller claims")
        height = 1 + max((self.heights.get(id(a), 1) for a in args if isinstance(a, Node)),
                         default=0)
        if height > MAX_HEIGHT:     # the tree is evaluated recursively: keep it shallow
            raise fail(f"expression more than {MAX_HEIGHT} operations deep at column {col} "
                       "(a long chain of signs, transposes or terms); simplify it")
        made = Node(kind, tuple(args), col, op)
        self.heights[id(made)] = height
        return made

    def ahead(self, k: int):
        """The token ``k`` places after the next one (END past the end)."""
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def op_is(self, *texts) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text in texts

    def unexpected(self, wanted: str) -> ParseError:
        tok = self.peek()
        if tok.kind == "END":
            return fail(f"the expression ends too early: expected {wanted}")
        return fail(f"unexpected {tok.text!r} at column {tok.col}; expected {wanted}")

    def parse(self) -> Node:
        tree = self.comparison()
        if self.peek().kind != "END":
            raise self.unexpected("an operator such as +, ⊙ or @")
        return tree

    def comparison(self) -> Node:
        """``expr`` or ``expr (> | >= | < | <=) expr``: numpy's mask of 1s and 0s."""
        left = self.expr()
        if self.peek().kind == "CMP":
            tok = self.take()
            left = self.node("cmp", (left, self.expr()), tok.col, tok.text)
            if self.peek().kind == "CMP":
                raise fail(f"{self.peek().text!r} at column {self.peek().col}: compare two "
                           "things at a time, as in (Z1 > 0)")
        return left

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
        signs = []
        while self.op_is("-", "+"):            # a loop: a run of signs is no recursion
            signs.append(self.take())
        if self.peek().kind in ("END", "OP"):
            raise self.unexpected("a name, a number or '('")
        node = self.postfix()
        for tok in reversed(signs):
            if tok.text == "-":
                node = self.node("neg", (node,), tok.col)
        return node

    def postfix(self) -> Node:
        base = self.primary()
        while True:
            tok = self.peek()
            if tok.kind == "TRANSPOSE":
                self.take()
                base = self.node("T", (base,), tok.col)
            elif tok.kind == "METHOD":
                base = self.method_call(base)
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
                if base.kind == "pow":          # powers of powers grow as towers
                    raise fail(f"'^' at column {tok.col} raises a power to a power; write "
                               "one power, as in a1^4 for (a1^2)^2")
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
        if tok.kind == "WORD" and self.ahead(1).kind == "NPDOT":
            return self.numpy_call()
        if tok.kind == "WORD":
            return self.name()
        raise self.unexpected("a name, a number or '('")

    def numpy_call(self) -> Node:
        """``np.dot(A, B)``, ``np.sum(A, axis=1, keepdims=True)``, ... (:data:`NUMPY_CALLS`)."""
        col = self.take().col
        self.take()                                         # the '.'
        fname = self.take()
        if fname.kind not in ("WORD", "SUM") or fname.text not in NUMPY_CALLS:
            raise fail(f"np.{fname.text} at column {col} is not read in matrix claims "
                       f"(numpy functions read: {', '.join(sorted(NUMPY_CALLS))})")
        args, keywords = self.arguments(fname.text, col)
        return self.numpy_node(fname.text, args, keywords, col)

    def method_call(self, base: Node) -> Node:
        """``dZ1.sum(axis=1, keepdims=True)``, ``A.dot(B)``: numpy's array methods."""
        dot = self.take()
        fname = self.take()
        if fname.kind not in ("WORD", "SUM") or fname.text not in NUMPY_METHODS:
            raise fail(f".{fname.text} at column {dot.col} is not read in matrix claims "
                       f"(array methods read: {', '.join(sorted(NUMPY_METHODS))})")
        args, keywords = self.arguments(fname.text, dot.col)
        return self.numpy_node(fname.text, [base, *args], keywords, dot.col)

    def arguments(self, name: str, col: int) -> tuple[list, dict]:
        """The ``(positional, keyword)`` arguments of a numpy call, brackets included."""
        if self.peek().kind != "LP":
            raise fail(f"np.{name} at column {col} needs its arguments in brackets")
        self.take()
        args: list = []
        keywords: dict = {}
        while True:
            if self.peek().kind == "WORD" and self.ahead(1).kind == "OP" \
                    and self.ahead(1).text == "=":
                key = self.take()
                self.take()
                keywords[key.text] = self.keyword_value(name, key)
            elif self.peek().kind != "RP" or args or keywords:
                args.append(self.comparison())
            if self.peek().kind == "COMMA":
                self.take()
                if self.peek().kind != "RP":                # a trailing comma is numpy's too
                    continue
            if self.peek().kind != "RP":
                raise self.unexpected(f"',' or ')' closing np.{name}(")
            self.take()
            return args, keywords

    def keyword_value(self, name: str, key):
        """The value of ``key=`` in np.``name``: a whole number (axis), True or False."""
        allowed = NUMPY_KEYWORDS.get(name, ())
        if key.text not in allowed:
            raise fail(f"np.{name} at column {key.col}: the keyword {key.text!r} is not read "
                       f"(read: {', '.join(allowed) or 'none'})")
        sign = 1
        if self.op_is("-"):
            self.take()
            sign = -1
        tok = self.take()
        if key.text == "keepdims" and tok.kind == "WORD" and tok.text in ("True", "False"):
            return tok.text == "True"
        if key.text == "axis" and tok.kind == "NUM" and tok.text.isdigit():
            return sign * int(tok.text)
        if key.text == "axis" and tok.kind == "WORD" and tok.text == "None":
            return None
        raise fail(f"{key.text}= at column {key.col} takes "
                   f"{'True or False' if key.text == 'keepdims' else 'an axis: 0, 1 or None'}")

    def numpy_node(self, name: str, args: list, keywords: dict, col: int) -> Node:
        arity = 2 if name in _NUMPY_BINARY or name == "power" else 1
        if name == "sum" and len(args) == 2 and "axis" not in keywords:     # np.sum(A, 1)
            axis = args.pop()
            if axis.kind != "num" or not axis.args[0].is_Integer:
                raise fail(f"np.sum at column {col}: the axis is 0, 1 or None")
            keywords["axis"] = int(axis.args[0])
        if len(args) != arity:
            raise fail(f"np.{name} at column {col} takes {arity} argument"
                       f"{'s' if arity > 1 else ''} here, got {len(args)}")
        if name in _NUMPY_BINARY:
            kind = _NUMPY_BINARY[name]
            return self.node(kind, tuple(args), col, "@" if kind == "prod" else "")
        if name in ("power", "square") and args[0].kind == "pow":   # towers, as for '^'
            raise fail(f"np.{name} at column {col} raises a power to a power; write one "
                       "power, as in np.power(A1, 4)")
        if name == "power":
            power = args[1]
            if power.kind != "num" or not power.args[0].is_Integer \
                    or not 0 <= int(power.args[0]) <= 64:
                raise fail(f"np.power at column {col} takes a whole power up to 64")
            return self.node("pow", (args[0], int(power.args[0])), col)
        if name == "square":
            return self.node("pow", (args[0], 2), col)
        if name == "transpose":
            return self.node("T", (args[0],), col)
        if name == "sum":
            axis = keywords.get("axis")
            if axis is not None and axis not in (-2, -1, 0, 1):
                raise fail(f"np.sum at column {col}: a matrix has axes 0 and 1, not {axis}")
            return self.node("npsum", (args[0], None if axis is None else axis % 2,
                                       bool(keywords.get("keepdims", False))), col)
        return self.node("fn", (name, args[0]), col)

    def group_of(self, kind: str) -> Node:
        if self.peek().kind != kind:
            raise self.unexpected("a braced part, as in \\frac{1}{m}")
        return self.group()

    def group(self) -> Node:
        open_ = self.take()
        inner = self.comparison()
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
