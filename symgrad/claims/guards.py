"""Structural limits on a parsed claim, checked on the tree before SymPy sees it.

Private helper of :mod:`symgrad.claims.parse`.  A short claim can still be
expensive: ``(x1+x2+...+y)^{-64}`` expands to twelve billion terms,
``cosh(sinh(cosh(x1^64)))`` has values no computer can hold (SymPy tries while
merely substituting numbers), ``x1^x1^x1^x1`` differentiates into a blow-up, and
a product of twenty 30-digit numbers is a 600-digit constant.  :func:`measure`
walks the tree once, bottom up, computing for every node a :class:`Shape` (cheap
upper bounds) and refusing the first node that passes a limit of
:data:`~symgrad.claims.lexer.LIMITS`, with its column.  An alias carries the shape
of its whole expression, so every limit holds through aliases as if they were
written out.

Growth is bounded where it hurts: a *layer* (exp, cosh, sinh, e^{..}, the
activations built on exp, a non-constant power) may wrap another layer only
when the inner one's argument stays below ``10**max_exp_arg_digits`` with every
symbol of size :data:`SYMBOL_SIZE`; ``exp(exp(exp(x1)))`` passes,
``cosh(sinh(x1^64))`` does not.  A non-constant exponent obeys the same bound
(``3**(3**64)`` would be computed exactly at an integer point).

It also refuses constants that are not real numbers (``sqrt(-1)``,
``log(-2)``, ``(-8)^{1/3}``): a claim is an identity between real functions.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, NamedTuple

from symgrad.claims.lexer import LIMITS, fail

#: Size assumed for every symbol when bounding how large a value can get: the
#: points a claim is checked at have values of size 1/4 to 5/2 (counterexamples 3).
SYMBOL_SIZE = 4
_LOG_SYMBOL = math.log10(SYMBOL_SIZE)
#: Functions whose value stays within [-1, 1] whatever the argument.
_BOUNDED = frozenset({"tanh", "sigmoid", "sigma", "sech"})
#: Functions that wrap their argument in exp (as SymPy builds them): layers.
_LAYERS = frozenset({"exp", "cosh", "sinh", "tanh", "sigmoid", "sigma", "sech", "softplus"})


class Shape(NamedTuple):
    """Cheap upper bounds on what a subtree becomes (see :func:`measure`)."""

    value: Fraction | None      # the exact value when the subtree is a number
    degree: int                 # polynomial degree (a function counts as one symbol)
    terms: int                  # terms after expanding every power and product of sums
    digits: float               # log10 of the largest numeric coefficient
    size: float                 # log10 of the largest value, symbols of size SYMBOL_SIZE,
    #                             a layer counted as its argument (not its growth)
    inner: float                # largest size of an argument of a layer inside
    tower: int                  # non-constant exponents stacked: x1^x1 is 1


class Alias(NamedTuple):
    """An alias once parsed: its SymPy expression and what the limits need to know."""

    expr: Any
    shape: Shape
    nodes: int                  # parts of its tree, aliases inside written out
    depth: int                  # nesting of its text, aliases inside written out
    chain: tuple[str, ...]      # the longest chain of aliases it goes through, itself first


SYMBOL = Shape(None, 1, 1, 0.0, _LOG_SYMBOL, 0.0, 0)


def show(value: Fraction) -> str:
    """A Fraction as a user writes it: ``5`` or ``3/4``."""
    return str(value.numerator) if value.denominator == 1 else str(value)


def _log10(value: Fraction) -> float:
    """log10 of the larger of numerator and denominator (the digits, as a float)."""
    if value == 0:
        return 0.0
    return max(math.log10(abs(value.numerator)), math.log10(value.denominator))


def col(node) -> int | None:
    """The column of the leftmost part of ``node`` that knows one."""
    kind = node[0]
    if kind in ("pow", "fn"):
        return node[3]
    if kind in ("sym", "batch", "num"):
        return node[2] if len(node) > 2 else None
    if kind == "e":
        return node[1]
    if kind == "sum":
        return node[4]
    for child in node[1] if kind in ("add", "mul") else [node[1]]:
        found = col(child)
        if found is not None:
            return found
    return None


def _at(node) -> str:
    where = col(node)
    return f" at column {where}" if where is not None else ""


def measure(node) -> Shape:
    """Return the :class:`Shape` of ``node``; raise ParseError at the first limit passed."""
    kind = node[0]
    if kind == "num":
        v = node[1]
        shape = Shape(v, 0, 1, _log10(v), math.log10(abs(v)) if abs(v) > 1 else 0.0, 0.0, 0)
    elif kind == "sym":
        alias = node[3]
        return SYMBOL if alias is None else alias.shape
    elif kind in ("e", "batch"):
        return Shape(None, 0, 1, 0.0, _LOG_SYMBOL, 0.0, 0)
    elif kind == "neg":
        inner = measure(node[1])
        return inner if inner.value is None else inner._replace(value=-inner.value)
    elif kind == "inv":
        shape = _inverse(node, measure(node[1]))
    elif kind == "add":
        shape = _add(node, [measure(n) for n in node[1]])
    elif kind == "mul":
        shape = _mul(node, [measure(n) for n in node[1]])
    elif kind == "pow":
        shape = _power(node, measure(node[1]), measure(node[2]))
    elif kind == "fn":
        shape = _function(node, measure(node[2]))
    elif kind == "sum":
        shape = measure(node[3])
    else:
        raise AssertionError(f"unknown node {kind}")   # internal: every kind is listed
    if shape.degree > LIMITS["max_degree"]:
        raise fail(f"the expression has degree up to {shape.degree}{_at(node)}; the limit "
                   f"is {LIMITS['max_degree']} (lower the powers)")
    if shape.digits > LIMITS["max_const_digits"]:
        _too_many_digits(node, shape.digits)
    if shape.terms > LIMITS["max_terms"]:
        _too_many_terms(node, shape.terms)
    return shape


def _inverse(node, inner: Shape) -> Shape:
    if inner.value is not None:
        if inner.value == 0:
            raise fail(f"division by zero{_at(node)}")
        return inner._replace(value=1 / inner.value)
    # 1/u is large only where u is small, which is no growth: size as a symbol.
    return inner._replace(size=_LOG_SYMBOL)


def _add(node, parts: list[Shape]) -> Shape:
    value: Fraction | None = Fraction(0)
    for p in parts:
        value = None if value is None or p.value is None else value + p.value
        if value is not None and _log10(value) > LIMITS["max_const_digits"]:
            _too_many_digits(node, _log10(value))
    spread = math.log10(len(parts))
    return Shape(value, max(p.degree for p in parts), sum(p.terms for p in parts),
                 _log10(value) if value is not None else max(p.digits for p in parts) + spread,
                 max(p.size for p in parts) + spread, max(p.inner for p in parts),
                 max(p.tower for p in parts))


def _mul(node, parts: list[Shape]) -> Shape:
    digits, terms = 0.0, 1
    value: Fraction | None = Fraction(1)
    for p in parts:                      # check before each step: nothing grows unchecked
        digits += p.digits
        terms *= p.terms
        if digits > LIMITS["max_const_digits"]:
            _too_many_digits(node, digits)
        if terms > LIMITS["max_terms"]:
            _too_many_terms(node, terms)
        value = None if value is None or p.value is None else value * p.value
    return Shape(value, sum(p.degree for p in parts), terms,
                 _log10(value) if value is not None else digits,
                 sum(p.size for p in parts), max(p.inner for p in parts),
                 max(p.tower for p in parts))


def check_exponent(e: Fraction | None, base, where: int) -> None:
    """Refuse ``x**n`` with ``abs(n)`` above ``max_exponent`` (``e**n`` is exp(n): allowed)."""
    if e is not None and abs(e) > LIMITS["max_exponent"] and base[0] != "e":
        raise fail(f"exponent {show(e)} at column {where} is too large (the limit is "
                   f"{LIMITS['max_exponent']} in absolute value)")


def _layer(node, arg: Shape, what: str) -> float:
    """Check a layer over ``arg``; return the ``inner`` of the layer."""
    if arg.inner > LIMITS["max_exp_arg_digits"]:
        raise fail(f"{what} at column {node[3]} is nested over an exponential whose argument "
                   f"can pass 10^{arg.inner:.1f} (every symbol of size {SYMBOL_SIZE}); the "
                   f"limit is 10^{LIMITS['max_exp_arg_digits']} under nested exp, cosh, sinh, "
                   "sigmoid, tanh or non-constant powers: lower the powers inside")
    return max(arg.inner, arg.size)


def _power(node, base: Shape, exp: Shape) -> Shape:
    where, e, b = node[3], exp.value, base.value
    if node[1][0] == "e":                          # e^u is exp(u)
        inner = _layer(node, exp, "e^{...}")
        return Shape(None, max(1, exp.degree), 1, exp.digits, exp.size, inner, exp.tower)
    check_exponent(e, node[1], where)
    if b is not None and b < 0 and (e is None or e.denominator != 1):
        what = f"({show(b)})^({show(e)})" if e is not None \
            else f"({show(b)})^(...), a negative number to a non-constant power,"
        raise fail(f"{what} at column {where} is not a real number; a claim must be real: "
                   "check the sign of the base")
    if e is None:
        return _varying_power(node, base, exp)
    if b is not None and e.denominator == 1:
        if abs(e.numerator) * _log10(b) > LIMITS["max_const_digits"] and abs(b) != 1:
            raise fail(f"the number {show(b)}**{show(e)} at column {where} is too large "
                       f"(more than {LIMITS['max_const_digits']} digits)")
        if b == 0 and e < 0:
            raise fail(f"division by zero (0 to a negative power) at column {where}")
        value: Fraction | None = b ** e.numerator
    else:
        value = None
    n = abs(e.numerator) // e.denominator          # the part expand multiplies out
    terms = math.comb(base.terms + n - 1, n) if base.terms > 1 else 1
    if terms > LIMITS["max_terms"]:
        raise fail(f"the power at column {where} expands to {terms:,} terms (a sum of "
                   f"{base.terms:,} terms to the power {show(e)}); the limit is "
                   f"{LIMITS['max_terms']:,}: lower the power or write fewer terms in the "
                   "bracket")
    size = float(abs(e)) * (base.size if e > 0 else max(base.size, _LOG_SYMBOL))
    digits = _log10(value) if value is not None \
        else float(abs(e)) * (base.digits + math.log10(base.terms))
    return Shape(value, base.degree * math.ceil(abs(e)), terms, digits, size, base.inner,
                 base.tower)


def _varying_power(node, base: Shape, exp: Shape) -> Shape:
    """``base ** exp`` with a non-constant exponent: a layer, and one storey of a tower."""
    where = node[3]
    tower = max(base.tower, exp.tower + 1)
    if tower > LIMITS["max_tower"]:
        raise fail(f"a power tower {tower} high at column {where} (non-constant exponents "
                   "stacked, as in x1^x1^x1^x1); the limit is "
                   f"{LIMITS['max_tower']}: simplify it")
    if exp.size > LIMITS["max_exp_arg_digits"]:
        raise fail(f"the exponent at column {where} can pass 10^{exp.size:.1f} (every "
                   f"symbol of size {SYMBOL_SIZE}); a non-constant exponent is limited to "
                   f"10^{LIMITS['max_exp_arg_digits']}: lower the powers in it")
    inner = max(base.inner, _layer(node, exp, "the power"))
    size = max(base.size, _LOG_SYMBOL) * 10.0 ** exp.size
    return Shape(None, base.degree + exp.degree + 1, 1, base.digits + exp.digits, size,
                 inner, tower)


def _function(node, arg: Shape) -> Shape:
    name, where, v = node[1], node[3], arg.value
    if v is not None and name == "sqrt" and v < 0:
        raise fail(f"sqrt({show(v)}) at column {where} is not a real number; a claim must "
                   "be real")
    if v is not None and name in ("log", "ln") and v <= 0:
        what = "-infinity" if v == 0 else "not a real number"
        raise fail(f"{name}({show(v)}) at column {where} is {what}; a claim must be real "
                   "and finite")
    base = name.rstrip("'")
    inner = _layer(node, arg, f"{name}(...)") if base in _LAYERS else arg.inner
    if base in _BOUNDED or (name.endswith("'") and base != "exp"):
        size = 0.0                       # bounded, as are the activations' derivatives
    elif base in ("log", "ln"):
        size = math.log10(1 + math.log(10) * max(arg.size, 1.0))
    elif base == "sqrt":
        size = arg.size / 2
    else:                                # exp, cosh, sinh (their argument), relu, softplus
        size = max(arg.size, math.log10(2))
    return Shape(None, max(1, arg.degree), 1, arg.digits, size, inner, arg.tower)


def _too_many_digits(node, digits: float) -> None:
    raise fail(f"the numbers{_at(node)} make a constant of {digits:,.0f} digits or more; "
               f"the limit is {LIMITS['max_const_digits']} digits: write smaller numbers")


def _too_many_terms(node, terms: int) -> None:
    raise fail(f"the expression{_at(node)} expands to more than {terms:,} terms (sums "
               f"multiplied together); the limit is {LIMITS['max_terms']:,}: multiply fewer "
               "sums, or split the claim")
