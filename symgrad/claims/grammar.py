"""Recursive-descent parser from tokens to a small tree (no SymPy arithmetic).

Private helper of :mod:`symgrad.claims.parse`.  The grammar, loosest binding first::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary | power)*      # juxtaposition multiplies
    unary   := ('+' | '-')* power
    power   := primary ('^' unary)?                     # right associative; ** is ^
    primary := NUM | name | '(' expr ')' | '{' expr '}' | \\frac{expr}{expr}
             | function argument | \\sum_{i=1}^{m} term

Tree nodes are tuples: ``("num", Fraction)``, ``("sym", expr, col, degree)``,
``("e", col)``, ``("batch", letter, col)``, ``("add", [nodes])``, ``("neg", node)``,
``("mul", [nodes], from_one_word)``, ``("inv", node)``, ``("pow", base, exp, col)``,
``("fn", name, arg, col)``, ``("sum", var, upper, body, col)``.  Number folding
and the exponent, size and degree limits run on this tree, before SymPy.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from symgrad.claims.lexer import LIMITS, fail
from symgrad.errors import ParseError

_STARTS = ("NUM", "WORD", "LP", "LB", "FRAC", "SUM", "PARTIAL")


def flatten_name(parts) -> str:
    """Fold a WORD/SUB/PRIME token run into one name: ``w``,``{1,10,2}`` -> ``w_1_10_2``."""
    subs = [t for t in parts if t.kind == "SUB"]
    concat = len(subs) == 1 and subs[0].text.isdigit()
    out = []
    for t in parts:
        if t.kind == "SUB":
            out.append(t.text if concat else "_" + t.text.replace(",", "_"))
        else:
            out.append(t.text)
    return "".join(out)


def _describe(tok) -> str:
    return "the end" if tok.kind == "END" else f"{tok.text!r} at column {tok.col}"


class Parser:
    """Parse one token list (ending in END) against a :class:`~symgrad.claims.names.Names`."""

    def __init__(self, tokens, names, sample_vars=()):
        self.toks = tokens
        self.pos = 0
        self.names = names
        self.sample_vars = list(sample_vars)
        self.depth = 0
        self.count = 0

    # -- helpers --------------------------------------------------------------
    def peek(self):
        return self.toks[self.pos]

    def take(self):
        tok = self.toks[self.pos]
        if tok.kind != "END":
            self.pos += 1
        return tok

    def is_op(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text == text

    def node(self, *parts):
        self.count += 1
        if self.count > LIMITS["max_nodes"]:
            raise fail(f"expression too large (more than {LIMITS['max_nodes']} parts); "
                       "split it or use --alias for repeated pieces")
        return parts

    def enter(self, tok):
        self.depth += 1
        if self.depth > LIMITS["max_depth"]:
            raise fail(f"expression nested more than {LIMITS['max_depth']} levels deep at "
                       f"column {tok.col}; simplify it")

    def unexpected(self, tok, wanted: str = "") -> ParseError:
        if tok.kind == "END":
            return fail(f"the expression ends too early{': expected ' + wanted if wanted else ''}")
        hint = f"; expected {wanted}" if wanted else ""
        if tok.kind == "OP" and tok.text == "=":
            hint = "; a claim has one '=' (split 'A = B = C' into two claims)"
        return fail(f"unexpected {_describe(tok)}{hint}")

    def parse(self):
        """Parse the whole token list as one expression."""
        tree = self.expr()
        if self.peek().kind != "END":
            raise self.unexpected(self.peek(), "an operator such as + or *")
        return tree

    # -- grammar --------------------------------------------------------------
    def expr(self):
        self.enter(self.peek())
        terms = [self.term()]
        while self.peek().kind == "OP" and self.peek().text in "+-":
            sign = self.take().text
            t = self.term()
            terms.append(t if sign == "+" else self.node("neg", t))
        self.depth -= 1
        return terms[0] if len(terms) == 1 else self.node("add", terms)

    def term(self):
        factors = [self.unary()]
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.text in "*/":
                self.take()
                f = self.unary()
                factors.append(f if tok.text == "*" else self.node("inv", f))
            elif tok.kind in _STARTS:
                factors.append(self.power())
            else:
                break
        return factors[0] if len(factors) == 1 else self.node("mul", factors, False)

    def unary(self):
        negative = False
        while self.peek().kind == "OP" and self.peek().text in "+-":
            negative ^= self.take().text == "-"
        if self.peek().kind == "END" or (self.peek().kind == "OP"):
            raise self.unexpected(self.peek(), "a number, a name or '('")
        p = self.power()
        return self.node("neg", p) if negative else p

    def power(self):
        base = self.primary()
        if not self.is_op("^") or self.sample_superscript():
            return base
        tok = self.take()
        self.enter(tok)
        exponent = self.unary()
        self.depth -= 1
        if base[0] == "mul" and base[2]:          # x1w211^2: the power binds to w211
            *head, last = base[1]
            return self.node("mul", head + [self.make_pow(last, exponent, tok)], True)
        return self.make_pow(base, exponent, tok)

    def sample_superscript(self) -> bool:
        """Skip ``^{(i)}`` (sample i, as in ``x_1^{(i)}``) when ``i`` is a sample index."""
        kinds = [t.kind for t in self.toks[self.pos + 1:self.pos + 6]]
        for shape in (["LB", "LP", "WORD", "RP", "RB"], ["LP", "WORD", "RP"]):
            if kinds[:len(shape)] == shape:
                var = self.toks[self.pos + shape.index("WORD") + 1].text
                if var in self.sample_vars:
                    self.pos += len(shape) + 1
                    return True
        return False

    def make_pow(self, base, exponent, tok):
        e = const(exponent)
        if e is not None and abs(e) > LIMITS["max_exponent"] and base[0] != "e":
            raise fail(f"exponent {_show(e)} at column {tok.col} is too large (the limit is "
                       f"{LIMITS['max_exponent']} in absolute value)")
        node = self.node("pow", base, exponent, tok.col)
        const(node)                                # checks the size of number powers
        return node

    def primary(self):
        tok = self.peek()
        if tok.kind == "NUM":
            self.take()
            return self.node("num", Fraction(tok.text))
        if tok.kind in ("LP", "LB"):
            return self.group()
        if tok.kind == "WORD":
            return self.name()
        if tok.kind == "FRAC":
            self.take()
            self.enter(tok)
            num, den = self.frac_arg(first=True), self.frac_arg(first=False)
            self.depth -= 1
            return self.node("mul", [num, self.node("inv", den)], False)
        if tok.kind == "SUM":
            return self.sum()
        if tok.kind == "PARTIAL":
            raise fail(f"'∂' at column {tok.col}: derivatives are read only on the left "
                       "side of '=', as in ∂z21/∂w111 = w211*x1")
        raise self.unexpected(tok, "a number, a name or '('")

    def group(self):
        open_ = self.take()
        closer = "RB" if open_.kind == "LB" else "RP"
        inner = self.expr()
        close = self.peek()
        if close.kind != closer:
            want = "'}'" if closer == "RB" else "')'"
            raise fail(f"{_describe(open_)} is not closed: expected {want} but found "
                       f"{'the end' if close.kind == 'END' else repr(close.text)}"
                       f"{'' if close.kind == 'END' else f' at column {close.col}'}")
        self.take()
        return inner

    def frac_arg(self, first: bool):
        tok = self.peek()
        if tok.kind == "LB":
            return self.group()
        if tok.kind == "NUM" and first and re.fullmatch(r"\d\d", tok.text):
            self.take()                            # \frac12
            self.toks.insert(self.pos, tok._replace(text=tok.text[1]))
            return self.node("num", Fraction(tok.text[0]))
        if tok.kind in ("NUM", "WORD"):
            return self.primary()
        raise self.unexpected(tok, "a braced argument of \\frac, as in \\frac{1}{m}")

    def name(self):
        first = self.peek()
        parts = [self.take()]
        while self.peek().kind in ("SUB", "PRIME"):
            parts.append(self.take())
        flat = flatten_name(parts)
        try:
            pieces = self.names.segment(flat, self.sample_vars)
        except ParseError as exc:
            if type(exc) is not ParseError:        # an alias's own, complete message
                raise
            raise fail(self._locate(str(exc), flat, first.col)) from None
        nodes = [self.piece(p, first) for p in pieces[:-1]]
        last = pieces[-1]
        nodes.append(self.call(last[1], first) if last[0] == "fn" else self.piece(last, first))
        return nodes[0] if len(nodes) == 1 else self.node("mul", nodes, True)

    def _locate(self, message: str, flat: str, col: int) -> str:
        message = message.replace(":", f" at column {col}:", 1)
        if flat[:1] == "d" and self.names.lookup(flat[1:]) is not None:
            message = (f"{flat!r} at column {col} looks like a derivative; derivatives are "
                       "read only on the left side of '=', as in dz21/dw111 = w211*x1")
        return message

    def piece(self, hit, tok):
        kind = hit[0]
        if kind == "sym":
            return self.node("sym", hit[1], tok.col, hit[2] if len(hit) > 2 else 1)
        if kind == "sample":
            return self.node("sym", hit[1], tok.col, 1)
        if kind == "e":
            return self.node("e", tok.col)
        if kind == "batch":
            return self.node("batch", hit[1], tok.col)
        what = "the loss L" if hit[1] == "L" else "the cost C"
        raise fail(f"{what} at column {tok.col} can only be differentiated on the left side "
                   f"of '=', as in d{hit[1]}/dw111 = ...")

    def call(self, name: str, tok):
        self.enter(tok)
        power = None
        if self.is_op("^"):
            power_tok = self.take()
            power = self.unary()
        nxt = self.peek()
        if nxt.kind in ("LP", "LB"):
            arg = self.group()
        elif nxt.kind in _STARTS:
            arg = self.power()
        else:
            raise fail(f"function {name!r} at column {tok.col} needs an argument, "
                       f"e.g. {name}(z11)")
        self.depth -= 1
        node = self.node("fn", name, arg, tok.col)
        return self.make_pow(node, power, power_tok) if power is not None else node

    def sum(self):
        tok = self.take()
        var, upper = "i", None
        if self.peek().kind == "SUB":
            sub = self.take()
            m = re.fullmatch(r"([A-Za-z])(?:=1)?", sub.text)
            if not m:
                raise fail(f"sum at column {tok.col}: write the sample sum as "
                           "\\sum_{i=1}^{m} (from 1 to the batch size m)")
            var = m.group(1)
        if self.is_op("^"):
            self.take()
            braced = self.peek().kind == "LB"
            if braced:
                self.take()
            up = self.take()
            if up.kind != "WORD" or up.text not in ("m", "n", "N"):
                raise fail(f"sum at column {tok.col}: the upper limit must be the batch "
                           f"size m, got {up.text!r}")
            if braced and self.take().kind != "RB":
                raise fail(f"sum at column {tok.col}: write the upper limit as ^{{m}}")
            upper = up.text
        self.enter(tok)
        self.sample_vars.append(var)
        body = self.term()
        self.sample_vars.pop()
        self.depth -= 1
        return self.node("sum", var, upper, body, tok.col)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def _digits(value: Fraction) -> int:
    return max(len(str(abs(value.numerator))), len(str(value.denominator)))


def const(node):
    """The exact value of a number-only subtree (a Fraction), else None.

    Powers of numbers are computed only after their size is estimated, so
    ``9**9**9**9`` and ``(10**30)**64`` fail here instead of filling memory.
    """
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "neg":
        v = const(node[1])
        return None if v is None else -v
    if kind in ("add", "mul"):
        values = [const(n) for n in node[1]]
        if any(v is None for v in values):
            return None
        return sum(values, Fraction(0)) if kind == "add" else math.prod(values, start=Fraction(1))
    if kind == "inv":
        v = const(node[1])
        if v == 0:
            raise fail("division by zero in the expression")
        return None if v is None else 1 / v
    if kind == "pow":
        b, e = const(node[1]), const(node[2])
        if b is None or e is None or e.denominator != 1:
            return None
        if b == 0 and e < 0:
            raise fail(f"division by zero (0 to a negative power) at column {node[3]}")
        if _digits(b) * abs(e.numerator) > LIMITS["max_const_digits"] and abs(b) != 1:
            raise fail(f"the number {_show(b)}**{_show(e)} at column {node[3]} is too large "
                       f"(more than {LIMITS['max_const_digits']} digits)")
        return b ** e.numerator
    return None


def degree(node) -> int:
    """An upper bound of the polynomial degree (functions count as one symbol)."""
    kind = node[0]
    if kind in ("num", "e", "batch"):
        return 0
    if kind == "sym":
        return node[3]
    if kind in ("neg", "inv"):
        return degree(node[1])
    if kind == "add":
        return max(degree(n) for n in node[1])
    if kind == "mul":
        return sum(degree(n) for n in node[1])
    if kind == "pow":
        e = const(node[2])
        base = degree(node[1])
        if node[1][0] == "e":
            return max(1, degree(node[2]))
        return base * math.ceil(abs(e)) if e is not None else base + degree(node[2]) + 1
    if kind == "fn":
        return max(1, degree(node[2]))
    if kind == "sum":
        return degree(node[3])
    raise AssertionError(f"unknown node {kind}")    # internal: every kind is listed above


def check_degree(tree) -> int:
    """Raise when the degree bound of ``tree`` passes ``LIMITS['max_degree']``."""
    d = degree(tree)
    if d > LIMITS["max_degree"]:
        raise fail(f"the expression has degree up to {d}; the limit is "
                   f"{LIMITS['max_degree']} (lower the powers)")
    return d


def walk(node):
    """Yield every node of the tree."""
    yield node
    kind = node[0]
    if kind in ("add", "mul"):
        for n in node[1]:
            yield from walk(n)
    elif kind in ("neg", "inv"):
        yield from walk(node[1])
    elif kind == "pow":
        yield from walk(node[1])
        yield from walk(node[2])
    elif kind == "fn":
        yield from walk(node[2])
    elif kind == "sum":
        yield from walk(node[3])
