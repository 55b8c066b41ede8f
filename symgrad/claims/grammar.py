"""Recursive-descent parser from tokens to a small tree (no SymPy arithmetic).

Private helper of :mod:`symgrad.claims.parse`.  The grammar, loosest binding first::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary | power)*      # juxtaposition multiplies
    unary   := ('+' | '-')* power
    power   := primary ('^' unary)?                     # right associative; ** is ^
    primary := NUM | name | '(' expr ')' | '{' expr '}' | \\frac{expr}{expr}
             | function argument | \\sum_{i=1}^{m} term

Tree nodes are tuples: ``("num", Fraction, col)``, ``("sym", expr, col, alias)``
(``alias`` is a :class:`~symgrad.claims.guards.Alias` or None), ``("e", col)``,
``("batch", letter, col)``, ``("add", [nodes])``, ``("neg", node)``,
``("mul", [nodes], from_one_word)``, ``("inv", node)``, ``("pow", base, exp, col)``,
``("fn", name, arg, col)``, ``("sum", var, upper, body, col)``.  The parser checks
size and nesting as it goes (aliases counted as written out);
:func:`symgrad.claims.guards.measure` then folds numbers and checks the other
limits on the finished tree, before SymPy.
"""

from __future__ import annotations

import re
from fractions import Fraction

from symgrad.claims.guards import Alias, check_exponent, measure
from symgrad.claims.lexer import LIMITS, fail
from symgrad.claims.nodes import derivative_symbol, flatten_name, match_derivative, prime_symbol
from symgrad.errors import ParseError

_STARTS = ("NUM", "WORD", "LP", "LB", "FRAC", "SUM", "PARTIAL")


def _describe(tok) -> str:
    return "the end" if tok.kind == "END" else f"{tok.text!r} at column {tok.col}"


class Cursor:
    """A position in a token list that ends in END (shared with the matrix reader)."""

    def __init__(self, tokens):
        self.toks = tokens
        self.pos = 0

    def peek(self):
        return self.toks[self.pos]

    def take(self):
        tok = self.toks[self.pos]
        if tok.kind != "END":
            self.pos += 1
        return tok


class Parser(Cursor):
    """Parse one token list (ending in END) against a :class:`~symgrad.claims.names.Names`."""

    def __init__(self, tokens, names, sample_vars=()):
        super().__init__(tokens)
        self.names = names
        self.sample_vars = list(sample_vars)
        self.depth = 0
        self.count = 0
        self.deepest = 0                    # deepest nesting, aliases written out
        self.chain: tuple[str, ...] = ()    # the longest alias chain used

    # -- helpers --------------------------------------------------------------
    def is_op(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind == "OP" and tok.text == text

    def node(self, *parts):
        self.count += 1
        if self.count > LIMITS["max_nodes"]:
            if self.chain:
                raise fail(f"expression too large once its aliases are written out (more "
                           f"than {LIMITS['max_nodes']:,} parts); split it into smaller claims")
            raise fail(f"expression too large (more than {LIMITS['max_nodes']:,} parts); "
                       "split it into smaller claims")
        return parts

    def enter(self, tok):
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        if self.depth > LIMITS["max_depth"]:
            raise fail(f"expression nested more than {LIMITS['max_depth']} levels deep at "
                       f"column {tok.col}; simplify it")

    def use_alias(self, alias: Alias, tok) -> None:
        """Count an alias as its expression written out (in brackets) where it is used."""
        depth = self.depth + alias.depth
        if depth > LIMITS["max_depth"]:
            raise fail(f"alias {alias.chain[0]!r} at column {tok.col} nests the expression "
                       f"{depth} levels deep once written out; the limit is "
                       f"{LIMITS['max_depth']}: simplify the alias or write it out")
        self.deepest = max(self.deepest, depth)
        if len(alias.chain) > len(self.chain):
            self.chain = alias.chain
        self.count += alias.nodes - 1              # node() adds the last one

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
        check_exponent(measure(exponent).value, base, tok.col)
        node = self.node("pow", base, exponent, tok.col)
        measure(node)                              # 9**9**9**9 fails here, not later
        return node

    def primary(self):
        tok = self.peek()
        if tok.kind in ("PARTIAL", "FRAC", "WORD"):
            hit = match_derivative(self.toks, self.pos, self.names)
            if hit is not None:
                self.pos = hit[0]
                return self.node("sym", derivative_symbol(hit[1], hit[2], self.names, tok.col),
                                 tok.col, None)
        if tok.kind == "NUM":
            self.take()
            return self.node("num", Fraction(tok.text), tok.col)
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
            raise fail(f"'∂' at column {tok.col} starts no derivative: write one as "
                       "∂z21/∂w111 or \\frac{\\partial z_{21}}{\\partial w_{111}}")
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
            return self.node("num", Fraction(tok.text[0]), tok.col)
        if tok.kind in ("NUM", "WORD"):
            return self.primary()
        raise self.unexpected(tok, "a braced argument of \\frac, as in \\frac{1}{m}")

    def name(self):
        first = self.peek()
        parts = [self.take()]
        while self.peek().kind in ("SUB", "PRIME"):
            parts.append(self.take())
        flat = flatten_name(parts)
        if self._sample_bracket():                 # x1[i], z11[i] inside a sum over i
            return self._per_sample(flat, first)
        try:
            pieces = self.names.segment(flat, self.sample_vars)
        except ParseError as exc:
            if type(exc) is not ParseError:        # an alias's own, complete message
                raise
            raise fail(self._locate(str(exc), flat, first.col)) from None
        nodes = [self.piece(p, first) for p in pieces[:-1]]
        last = pieces[-1]
        if last[0] == "fn":
            nodes.append(self.call(last[1], first))
        else:
            nodes.append(self.piece(last, first))
            nxt = self.peek()
            if nxt.kind == "LP" and nxt.text == "[" and nxt.glued and flat == "E":
                raise fail(f"E[...] at column {first.col}: an expectation over samples is "
                           "written as the batch mean \\frac{1}{m}\\sum_{i=1}^{m} (...) with "
                           "sample-indexed names (x_{i1}, y_i), the whole right side of a "
                           "claim about C")
            if nxt.kind == "LP" and nxt.text == "[" and nxt.glued:
                var = self.toks[self.pos + 1]
                if var.kind == "WORD" and len(var.text) == 1:
                    raise fail(f"{flat}[{var.text}] at column {first.col}: a sample index is "
                               f"only meaningful inside (1/m) sum_{var.text} (...); outside, "
                               f"write {flat}")
                raise fail(f"'[' at column {nxt.col} right after {flat!r} looks like indexing, "
                           "which claims do not have (an index is a subscript: x_1, w_{211}); "
                           f"to multiply, write {flat}*[...]")
        return nodes[0] if len(nodes) == 1 else self.node("mul", nodes, True)

    def _sample_bracket(self) -> bool:
        """Whether a glued ``[i]`` follows, with ``i`` a sample index (then it is read)."""
        toks = self.toks[self.pos:self.pos + 3]
        if (len(toks) == 3 and toks[0].kind == "LP" and toks[0].text == "[" and toks[0].glued
                and toks[1].kind == "WORD" and toks[1].text in self.sample_vars
                and toks[2].kind == "RP" and toks[2].text == "]"):
            self.pos += 3
            return True
        return False

    def _per_sample(self, flat: str, tok):
        """``x1[i]`` as symgrad prints a sample's value: the node, input or target ``flat``."""
        sym = self.names.network_symbol(flat)
        if sym is None or sym in self.names.net.parameters:
            what = "is the same for every sample" if sym is not None else "is not a node"
            raise fail(f"{flat}[...] at column {tok.col}: {flat} {what}; a sample's value "
                       "is written x1[i], y[i], yhat[i] or z11[i]")
        return self.node("sym", sym, tok.col, None)

    def _locate(self, message: str, flat: str, col: int) -> str:
        message = message.replace(":", f" at column {col}:", 1)
        if flat[:1] == "d" and self.names.lookup(flat[1:]) is not None:
            message = (f"{flat!r} at column {col} looks like half a derivative; write "
                       "the whole derivative, as in dz21/dw111 or dL/dz11")
        return message

    def piece(self, hit, tok):
        kind = hit[0]
        if kind == "sym":
            alias = hit[2] if len(hit) > 2 else None
            if alias is not None:
                self.use_alias(alias, tok)
            return self.node("sym", hit[1], tok.col, alias)
        if kind == "sample":
            return self.node("sym", hit[1], tok.col, None)
        if kind == "e":
            return self.node("e", tok.col)
        if kind == "batch":
            return self.node("batch", hit[1], tok.col)
        what = "the loss L" if hit[1] == "L" else "the cost C"
        raise fail(f"{what} at column {tok.col} can only appear in a derivative, as in "
                   f"d{hit[1]}/dw111 or d{hit[1]}/dz11")

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
        if name == "f'":                          # f'(z11): da11/dz11, that neuron's f'
            z = arg[1] if arg[0] == "sym" and arg[3] is None else None
            node = self.node("sym", prime_symbol(z, self.names.net, tok.col), tok.col, None)
            return self.make_pow(node, power, power_tok) if power is not None else node
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
