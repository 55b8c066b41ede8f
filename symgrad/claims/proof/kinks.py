"""Kinks: where a piecewise activation switches branch, and points that keep off them.

Which functions are piecewise is read from :data:`symgrad.activations.TABLE`: every
row marked ``kinked`` contributes its function and its derivative's function
(ReLU's ``relu`` and ``step``).  Where each one switches branch is read from its
``Piecewise`` rewrite: every condition ``u > c`` gives a *boundary* ``u - c``, and
the function is one polynomial on each side of it.  Nothing here names an
activation, so a new kinked activation in the table is handled as it is.

A point is *off the kinks* of an expression when no boundary of it is 0 there;
its *pattern* is the sign of every boundary (which ReLUs are on).

>>> import sympy as sp
>>> from symgrad.activations import forward
>>> x, w = sp.symbols("x w", real=True)
>>> e = forward("relu", w * x - 1)
>>> boundaries(e)
[w*x - 1]
>>> pattern(boundaries(e), {x: sp.Integer(2), w: sp.Integer(1)})
(1,)
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp

from symgrad.activations import TABLE
from symgrad.claims.points import MAX_EXACT_BITS, OUT_OF_RANGE, SMALL_EXPONENT, evaluate

#: The variable of the table's ``Piecewise`` rewrites (:func:`pieces`).
U = sp.Dummy("u", real=True)


@lru_cache(maxsize=1)
def kinked_functions() -> dict:
    """``{function class: (activation name, "forward" or "derivative")}`` from the table."""
    found: dict = {}
    for row in TABLE.values():
        if not row.kinked:
            continue
        f = row.forward(U)
        for expr, role in ((f, "forward"), (row.derivative(U, f), "derivative")):
            if isinstance(expr, sp.Function) and expr.args == (U,):
                found.setdefault(type(expr), (row.name, role))
    return found


def kinked_classes() -> tuple:
    """The function classes of :func:`kinked_functions`, for ``expr.atoms(*classes)``."""
    return tuple(kinked_functions())


_PIECES: dict = {}


def pieces(app) -> tuple:
    """``((value, condition), ...)`` of ``f(u)``, for an application ``app`` of ``f``,
    rewritten as a ``Piecewise`` in the variable :data:`U`."""
    cls = type(app)
    if cls not in _PIECES:
        rewritten = cls(U).rewrite(sp.Piecewise)
        _PIECES[cls] = (tuple(rewritten.args) if isinstance(rewritten, sp.Piecewise)
                        else ((rewritten, sp.true),))
    return _PIECES[cls]


def relations(condition) -> list:
    """The relationals inside a ``Piecewise`` condition (``u > 0``; ``And`` of several)."""
    if isinstance(condition, sp.core.relational.Relational):
        return [condition]
    if condition in (sp.true, sp.false):
        return []
    return [r for arg in condition.args for r in relations(arg)]


def application_boundaries(app) -> list:
    """The boundaries of one application ``f(arg)`` of a kinked function."""
    arg = app.args[0]
    out = []
    for _, condition in pieces(app):
        for rel in relations(condition):
            b = (rel.lhs - rel.rhs).xreplace({U: arg})
            if b not in out:
                out.append(b)
    return out


def applications(expr) -> list:
    """Every application of a kinked function in ``expr``, inner ones first."""
    classes = kinked_classes()
    if not classes or not expr.has(*classes):
        return []
    found = sorted(expr.atoms(*classes), key=sp.count_ops)
    return found


def boundaries(*exprs) -> list:
    """The boundaries of every kinked function in ``exprs`` (no repeats, inner first)."""
    out: list = []
    for expr in exprs:
        for app in applications(expr):
            for b in application_boundaries(app):
                if b not in out and not b.is_number:
                    out.append(b)
    return out


@lru_cache(maxsize=16)
def network_boundaries(net) -> list:
    """The kinks of every neuron of ``net`` (its pre-activations, for ReLU layers)."""
    return boundaries(*(net.a(l, j) for l in range(1, net.depth + 1)
                        for j in range(1, net.widths[l] + 1)))


class _Slow(Exception):
    """A node the fast exact pass does not know (``tanh``): use :func:`evaluate`."""


def values(exprs, point) -> list:
    """``exprs`` at ``point``, each shared subtree computed once (nested ReLU layers
    repeat it many times): exact (Python fractions) where the value is rational,
    else :func:`evaluate`'s value."""
    memo: dict = {}
    def walk(e):
        found = memo.get(e)
        if found is not None:
            return found
        if e.is_Symbol:
            if e not in point:
                raise _Slow
            found = Fraction(int(point[e].p), int(point[e].q))
        elif e.is_Rational:
            found = Fraction(int(e.p), int(e.q))
        elif e.is_Add:
            found = sum((walk(a) for a in e.args), Fraction(0))
        elif e.is_Mul:
            found = Fraction(1)
            for a in e.args:
                found *= walk(a)
        elif (e.is_Pow and e.exp.is_Integer and abs(e.exp) <= SMALL_EXPONENT
              and (e.exp > 0 or walk(e.base) != 0)):
            found = walk(e.base) ** int(e.exp)
        elif isinstance(e, sp.Function) and len(e.args) == 1:   # relu(3/2), exp(0)
            arg = walk(e.args[0])
            v = e.func(sp.Rational(arg.numerator, arg.denominator))
            if not v.is_Rational:
                raise _Slow
            found = Fraction(int(v.p), int(v.q))
        else:
            raise _Slow
        memo[e] = found
        return found

    out = []
    for e in exprs:
        try:
            v = walk(e)
        except (_Slow, ZeroDivisionError, RecursionError):
            out.append(evaluate(e, point))
            continue
        if max(v.numerator.bit_length(), v.denominator.bit_length()) > MAX_EXACT_BITS:
            out.append(evaluate(e, point))
        else:
            out.append(sp.Rational(v.numerator, v.denominator))
    return out


def pattern(bounds, point) -> tuple | None:
    """The sign of each boundary at ``point``, or None if one is 0 or cannot be computed."""
    signs = []
    for v in values(bounds, point):
        if v is None or v is OUT_OF_RANGE or v == 0:
            return None
        signs.append(1 if v > 0 else -1)
    return tuple(signs)


def off_kinks(bounds, point) -> bool:
    """True when no boundary is 0 at ``point`` (all of them computable there)."""
    return pattern(bounds, point) is not None


def at_kink(bounds, point) -> list:
    """The boundaries that are exactly 0 at ``point``."""
    return [b for b in bounds if evaluate(b, point) == 0]


def conventions(exprs, point) -> list:
    """What symgrad takes at the kinks that ``exprs`` sit on at ``point``:
    ``["relu'(0) = 0"]`` (a derivative's value at its kink, from the table)."""
    out = []
    table = kinked_functions()
    for expr in exprs:
        for app in applications(expr):
            name, role = table[type(app)]
            if role != "derivative":
                continue
            arg = app.args[0]
            for _, condition in pieces(app):
                for rel in relations(condition):
                    template = rel.lhs - rel.rhs           # linear in u: u - kink
                    if evaluate(template.xreplace({U: arg}), point) != 0:
                        continue
                    slope = template.diff(U)
                    where = -template.xreplace({U: 0}) / slope if slope else 0
                    text = f"{name}'({where}) = {type(app)(where)}"
                    if text not in out:
                        out.append(text)
    return out


__all__ = ["applications", "at_kink", "boundaries", "conventions", "kinked_functions",
           "network_boundaries", "off_kinks", "pattern"]
