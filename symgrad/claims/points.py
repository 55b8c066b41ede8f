"""Numbers at points: exact and 50-digit evaluation, random points, counterexamples.

The numeric half of :mod:`symgrad.claims.equivalence`.  Inputs are exact
rationals, so polynomial expressions evaluate exactly; everything else is
evaluated with :data:`DIGITS` significant digits, and a value that would overflow
double range on the way (``exp(exp(exp(x)))``) counts as undefined rather than
being computed.

>>> import sympy as sp
>>> x1, w211 = sp.symbols("x1 w211", real=True)
>>> counterexample(x1, w211 * x1).text()
'x1=1, w211=2: claimed 1, true 2'
"""

from __future__ import annotations

import cmath
import random
from dataclasses import dataclass
from math import prod

import sympy as sp

#: Significant digits of every numeric evaluation.
DIGITS = 50
#: Relative difference below which two 50-digit values count as equal.
EQUAL_RTOL = sp.Float("1e-35", DIGITS)
#: Relative difference above which two values count as clearly different.
DIFFER_RTOL = sp.Float("1e-15", DIGITS)
#: Small integers tried, in order, when looking for a readable counterexample.
SMALL_VALUES = (2, -1, 0, 3, -2)
#: Number of random points a numeric comparison uses.
POINTS = 12


def evaluate(expr: sp.Expr, point: dict, digits: int = DIGITS):
    """Value of ``expr`` at ``point`` (``{Symbol: Rational}``): exact when rational.

    Returns a SymPy ``Rational`` when the value is exact and rational, a ``Float``
    with ``digits`` significant digits otherwise, and ``None`` where the expression
    is undefined or not real (division by zero, log of a negative number).
    """
    value = expr.xreplace(point)
    if value.is_Rational:
        return value
    try:
        if value.has(sp.exp, sp.sinh, sp.cosh) and _too_large(value):
            return None
        value = value.evalf(digits)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    if not value.is_Number or value in (sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return value


#: Largest argument of exp/sinh/cosh that double precision can hold the value of.
GROWTH_LIMIT = 700


def _too_large(value) -> bool:
    """True when a numeric expression overflows double range somewhere inside.

    ``exp(exp(exp(exp(exp(x)))))`` at x = 5/2 is about exp(10**84700); SymPy's
    ``evalf`` would try to compute it.  A quick pass in double precision, bottom
    up, finds any exp/sinh/cosh whose argument is beyond ``GROWTH_LIMIT`` first;
    such a point is treated as one where the expression is undefined.
    """
    def approx(e):
        if e.is_Number or e.is_NumberSymbol:
            return complex(e)
        args = [approx(a) for a in e.args if isinstance(a, sp.Expr)]
        if isinstance(e, (sp.exp, sp.sinh, sp.cosh)):
            if abs(args[0].real) > GROWTH_LIMIT:
                raise OverflowError
            return complex(getattr(cmath, type(e).__name__)(args[0]))
        if e.is_Add:
            return sum(args)
        if e.is_Mul:
            return prod(args)
        if e.is_Pow:
            base, power = args
            return complex(base ** power) if base != 0 else 0j
        return complex(e.evalf(15))

    try:
        value_ = approx(value)
    except OverflowError:
        return True
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return not cmath.isfinite(value_)


def same_value(u, v):
    """True when ``u`` and ``v`` agree, False when they clearly differ, None if unclear.

    ``None`` (undefined) agrees only with ``None``.
    """
    if u is None or v is None:
        return u is None and v is None
    if u.is_Rational and v.is_Rational:
        return u == v
    scale = max(abs(u), abs(v), sp.S.One)
    gap = abs(u - v)
    if gap <= EQUAL_RTOL * scale:
        return True
    if gap > DIFFER_RTOL * scale:
        return False
    return None


def random_points(symbols, n: int = POINTS, seed: int = 0) -> list:
    """``n`` random points ``{Symbol: Rational}`` with values of both signs, 1/4 <= |v| <= 5/2.

    Values are multiples of 1/64, so polynomial expressions evaluate exactly.
    """
    rng = random.Random(seed)
    ordered = sorted(symbols, key=sp.default_sort_key)
    return [{s: sp.Rational(rng.choice((-1, 1)) * rng.randint(16, 160), 64) for s in ordered}
            for _ in range(n)]


@dataclass
class Counterexample:
    """A point where two expressions differ, and both values there.

    ``values`` holds only the symbols that occur in either expression; every
    other symbol may take any value.  A value is ``None`` where that side is
    undefined.
    """

    values: dict
    claimed: object
    true: object
    others_free: bool = False

    def text(self, labels=("claimed", "true")) -> str:
        """``"x1=1, w211=2: claimed 1, true 2"`` (``labels`` name the two sides)."""
        point = ", ".join(f"{s}={format_number(v)}" for s, v in self.values.items())
        if self.others_free:
            point += " (other symbols any value)"
        first, second = labels
        return (f"{point}: {first} {format_number(self.claimed)}, "
                f"{second} {format_number(self.true)}")


def format_number(v) -> str:
    """Exact rationals as ``3/2``, floats with 10 significant digits, ``None`` as undefined."""
    if v is None:
        return "undefined"
    if getattr(v, "is_Rational", False):
        return str(v)
    return str(sp.Float(v, 10))


def json_number(v):
    """A JSON-ready number: ``int`` for integers, ``float`` otherwise, ``None`` if undefined."""
    if v is None:
        return None
    if getattr(v, "is_Integer", False):
        return int(v)
    return float(v)


def _differs(a, b, point) -> bool:
    """True when ``a`` and ``b`` clearly differ at ``point`` (both defined)."""
    u, v = evaluate(a, point), evaluate(b, point)
    return u is not None and v is not None and same_value(u, v) is False


def _candidate_points(symbols, seed):
    """Small-integer points: all ones, one value changed, two changed, then random."""
    base = {s: sp.Integer(1) for s in symbols}
    yield base
    for s in symbols:
        for v in SMALL_VALUES:
            yield {**base, s: sp.Integer(v)}
    if len(symbols) <= 6:
        for i, s in enumerate(symbols):
            for t in symbols[i + 1:]:
                for v in SMALL_VALUES[:3]:
                    for u in SMALL_VALUES[:3]:
                        yield {**base, s: sp.Integer(v), t: sp.Integer(u)}
    rng = random.Random(seed)
    for _ in range(40):
        yield {s: sp.Integer(rng.randint(-2, 3)) for s in symbols}


def counterexample(a: sp.Expr, b: sp.Expr, *, fallback=None, seed: int = 0,
                   all_symbols=()) -> Counterexample | None:
    """A readable point where ``a`` (claimed) and ``b`` (true) differ, or None.

    Small integers are tried first (all ones, then one or two symbols changed,
    then random values in -2..3); ``fallback`` (a point where they are known to
    differ) is used when no integer point works.

    >>> import sympy as sp
    >>> x1, w211 = sp.symbols("x1 w211", real=True)
    >>> counterexample(x1, w211 * x1).text()
    'x1=1, w211=2: claimed 1, true 2'
    """
    symbols = sorted(a.free_symbols | b.free_symbols, key=_symbol_order)
    others = bool(set(all_symbols) - set(symbols))
    for point in _candidate_points(symbols, seed):
        if _differs(a, b, point):
            return Counterexample(point, evaluate(a, point), evaluate(b, point), others)
    if fallback is not None:
        point = {s: fallback[s] for s in symbols if s in fallback}
        return Counterexample(point, evaluate(a, fallback), evaluate(b, fallback), others)
    return None


def _symbol_order(s):
    """Inputs first, then targets, weights, biases, others; by name within a kind."""
    kinds = "xywb"
    head = s.name[:1]
    return (kinds.index(head) if head in kinds else len(kinds), len(s.name), s.name)
