"""What a claim is checked against, and how its symbols are shown.

The exact derivatives (cached per network), the user's names for symbols
(:class:`Names`: weight template and aliases, display only), the checks on the
arguments of the Python API, and the :class:`Case` a diagnosis reads.  Shared by
:mod:`symgrad.claims.verify` and :mod:`symgrad.claims.compare`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from symgrad.claims.equivalence import MIN_INFORMATIVE
from symgrad.claims.notation import get_notation
from symgrad.claims.points import MAX_EXACT_BITS, same_value
from symgrad.claims.proof.compact import compress
from symgrad.claims.proof.kinks import values
from symgrad.derive import gradients
from symgrad.errors import ParseError, SpecError, SpecTypeError
from symgrad.render.printing import OrderedText, rank_key
from symgrad.spec import WEIGHT_TEMPLATE, weight_label


@lru_cache(maxsize=64)
def truths(net, key: str, form: str) -> dict:
    """The exact derivatives of ``key`` (``"loss"``, ``"output"``, ``"z21"``), cached."""
    return gradients(net, key, form=form)


class _Printer(StrPrinter):
    """``str()`` of SymPy, except that integers too long for Python's int-to-text limit
    are shown to 10 digits (``1.234567890e+6000``) and a sum starts with a positive term."""

    def _print_Integer(self, expr):
        if expr.p.bit_length() > MAX_EXACT_BITS:
            return str(sp.Float(expr, 10))
        return super()._print_Integer(expr)

    def _print_Add(self, expr, order=None):
        """Positive terms first, as people write them: ``z21 - y``, not ``-y + z21``."""
        terms = self._as_ordered_terms(expr, order=order)
        negative = [t for t in terms if t.as_coeff_Mul()[0].is_negative]
        if len(negative) == len(terms):
            return super()._print_Add(expr, order)
        prec = precedence(expr)
        out = []
        for term in [t for t in terms if t not in negative] + negative:
            text = self._print(term)
            sign = "+"
            if text.startswith("-") and not term.is_Add:
                sign, text = "-", text[1:]
            out += [sign, f"({text})" if precedence(term) < prec or term.is_Add else text]
        return " ".join(out[1:]) if out[0] == "+" else "-" + " ".join(out[1:])

    def _print_Rational(self, expr):
        if max(expr.p.bit_length(), expr.q.bit_length()) > MAX_EXACT_BITS:
            return str(sp.Float(expr, 10))
        return super()._print_Rational(expr)


def show_expr(expr) -> str:
    """``str(expr)``, safe for huge integers."""
    return _Printer().doprint(expr)


class _InOrder(OrderedText):
    """render.printing's ordered text, safe for huge integers like :func:`show_expr`."""

    def _print_Integer(self, expr):
        return _Printer()._print_Integer(expr)

    def _print_Rational(self, expr):
        return _Printer()._print_Rational(expr)


class Names:
    """How symbols are shown to the user: their weight-name template and aliases.

    Only names that are plain identifiers are used for display; nothing here is
    parsed or evaluated.
    """

    def __init__(self, net, weight_template: str = WEIGHT_TEMPLATE, aliases=None,
                 notation=None, output: str | None = None):
        self.rename = {}
        self.net = net
        self._key = None              # render.printing's factor order, built on first use
        self.notation = get_notation(notation)
        if self.notation.marks:
            self.rename.update(_course_names(net, self.notation))
        elif weight_template != WEIGHT_TEMPLATE:
            for w, (l, j, k) in zip(net.weights, net.spec.weight_index()):
                self.rename[w] = sp.Symbol(weight_label(l, j, k, weight_template), real=True)
        if output is not None and net.spec.n_outputs == 1:      # the claim's y', ŷ, \hat{y}
            out, shown = net.a_symbol(net.depth, 1), sp.Symbol(output, real=True)
            self.rename[out] = shown
            self.rename[linear_names(net).get(out, out)] = shown
        for name, value in dict(aliases or {}).items():
            target = net.symbols.get(value.strip()) if isinstance(value, str) else None
            if target is None and isinstance(value, sp.Symbol):
                target = value
            if target is not None and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
                self.rename[target] = sp.Symbol(str(name), real=True)

    def __call__(self, expr) -> str:
        if isinstance(expr, int):
            expr = sp.Integer(expr)
        if self._key is None:
            self._key = rank_key(self.net)
        # The one factor order of every surface (render.printing), at every depth;
        # symbols shown in the user's names.
        shown = {s: str(self.rename[s]) for s in expr.free_symbols if s in self.rename}
        return _InOrder(shown, self._key).doprint(expr)


def _course_names(net, notation) -> dict:
    """``{symbol: symbol shown in the course's notation}`` (weights, biases, nodes)."""
    spec = net.spec
    out = {w: notation.show("w", *idx) for w, idx in zip(net.weights, spec.weight_index())}
    if spec.bias:
        out.update({b: notation.show("b", *idx) for b, idx in zip(net.biases, spec.bias_index())})
    for l in range(1, spec.depth + 1):
        for j in range(1, spec.widths[l] + 1):
            out[net.z_symbol(l, j)] = notation.show("z", l, j)
            out[net.a_symbol(l, j)] = notation.show("a", l, j)
    return {s: sp.Symbol(name, real=True) for s, name in out.items()}


@dataclass
class Case:
    """Everything the diagnosis needs about one claim (see :mod:`symgrad.claims.diagnose`)."""

    net: object
    of: str
    of_key: str
    parameter: sp.Symbol
    claimed_compact: sp.Expr
    claimed: sp.Expr
    true_compact: sp.Expr
    true: sp.Expr
    points: list
    show: Names
    chain: sp.Expr | None = None       # the right side with derivative symbols, if any
    guard: list = field(default_factory=list)   # the kinks of the network
    last: tuple | None = None          # the last relation that held (see :meth:`agree`)

    @property
    def of_loss(self) -> bool:
        return self.of_key == "loss"

    def value(self, expr, i: int):
        """Value of ``expr`` at point ``i`` (memoised: diagnoses reuse them)."""
        memo = self.__dict__.setdefault("_memo", {})
        if (expr, i) not in memo:
            memo[expr, i] = values((expr,), self.points[i])[0]
        return memo[expr, i]

    def agree(self, a, b) -> bool:
        """True when ``a`` and ``b`` agree at every point, and at least
        :data:`~symgrad.claims.equivalence.MIN_INFORMATIVE` of them (all, if fewer)
        have nonzero values: 0 = 0 at a switched-off ReLU proves no relation.
        The pair is kept as :attr:`last`."""
        informative = 0
        for i in range(len(self.points)):
            u = self.value(a, i)
            if same_value(u, self.value(b, i)) is not True:
                return False
            informative += u is not None and u != 0
        if informative < min(MIN_INFORMATIVE, len(self.points)):
            return False
        self.last = (a, b)
        return True

    def truth(self, q, compact: bool = False):
        return truths(self.net, self.of_key, "compact" if compact else "expanded")[q]

    def compress(self, expr):
        return compress(self.net, expr)


def of_key(net, of: str) -> str:
    if not isinstance(of, str):
        raise SpecTypeError(f"what to differentiate must be a name such as 'L' or 'z21', "
                            f"got {type(of).__name__}")
    if of in ("L", "C", "loss"):
        return "loss"
    if of == "output":
        return "output"
    if of in net.symbols and of[:1] in "za":
        return of
    raise SpecError(f"cannot differentiate {of!r}: use L, C or a neuron's z/a name")


def linear_names(net) -> dict:
    """``{a{l}{j}: z{l}{j}}`` for linear layers, where the two are the same."""
    return {net.a_symbol(l, j): net.z_symbol(l, j) for l in range(1, net.depth + 1)
            if net.activations[l - 1] == "linear" for j in range(1, net.widths[l] + 1)}


def check_network(net) -> None:
    """SpecTypeError unless ``net`` is a :class:`~symgrad.network.Network`."""
    from symgrad.network import Network

    if not isinstance(net, Network):
        raise SpecTypeError(f"net must be a symgrad.Network, got {type(net).__name__}")


def as_expression(value, net, what: str = "claimed", **parse_options) -> sp.Expr:
    """A SymPy expression from ``value``: SymPy and numbers as they are, text through
    the claim parser (never ``sympify``); anything else is a SpecTypeError."""
    if isinstance(value, str):
        from symgrad.claims.parse import parse_expression

        return parse_expression(value, net, **parse_options)
    if isinstance(value, sp.Expr):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return sp.Integer(value) if isinstance(value, int) else sp.Float(value)
    raise SpecTypeError(f"{what} must be a SymPy expression, a number or text, got "
                        f"{type(value).__name__}")


def check_aliases(aliases) -> dict:
    """``aliases`` as ``{name: text}``; SpecTypeError for anything else."""
    if aliases is None:
        return {}
    if not isinstance(aliases, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise SpecTypeError("aliases must be a dict of names to expression text, e.g. "
                            "{'z_b': 'z21'}")
    return dict(aliases)                  # (a plain dict travels to a worker)


def claim_texts(claims) -> list:
    """``claims`` as a list: one string, or an iterable of them (checked one by one)."""
    if isinstance(claims, str):
        return [claims]
    if claims is None or isinstance(claims, (bytes, dict)) or not hasattr(claims, "__iter__"):
        raise SpecTypeError(f"claims must be a string or a list of strings, got "
                            f"{type(claims).__name__}")
    return list(claims)


def matrix_hint(net, text: str, exc: ParseError) -> ParseError:
    """``exc``, or for a matrix claim (``dL/dW2 = ...``) which function checks it."""
    from symgrad.claims.matrix.sides import looks_matrix  # it reads names, not verdicts

    if not looks_matrix(text, net):
        return exc
    return ParseError(f"{text!r} is a matrix claim (a whole layer's gradient): check it with "
                      "symgrad.verify_matrix(net, claims); the symgrad verify command takes "
                      "both kinds")


def natural_targets(net):
    """``prefer`` for :func:`symgrad.claims.equivalence.decide`: on a network whose
    targets are probabilities (bce: each in [0, 1]; cross-entropy: a distribution, the
    last target one minus the others), whether a point's targets are such; else None."""
    if net.loss_name not in ("bce", "cross-entropy"):
        return None
    targets = [s for s in net.targets if not s.is_number]
    whole = net.loss_name == "cross-entropy"

    def prefer(point) -> bool:
        ys = [point[s] for s in targets if s in point]
        return all(0 <= y <= 1 for y in ys) and (not whole or sum(ys) <= 1)

    return prefer
