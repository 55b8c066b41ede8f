"""Numbers at points: exact and 50-digit evaluation, random points, counterexamples.

The numeric half of :mod:`symgrad.claims.equivalence`.  Inputs are exact
rationals, so polynomial expressions evaluate exactly; everything else is
evaluated with :data:`DIGITS` significant digits.  A value that would leave
double range on the way (``exp(exp(exp(x)))``, a power tower ``x^x^x^x^x``,
``x^5000``) is not computed at all: it is :data:`OUT_OF_RANGE`, which agrees with
nothing and differs from nothing, so it can neither prove nor refute a claim.

>>> import sympy as sp
>>> x1, w211 = sp.symbols("x1 w211", real=True)
>>> counterexample(x1, w211 * x1).text()
'x1=1, w211=2: claimed 1, true 2'
"""

from __future__ import annotations

import cmath
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from math import prod

import mpmath  # type: ignore[import-untyped]
import sympy as sp

#: Significant digits of every numeric evaluation.
DIGITS = 50
#: Relative difference below which two 50-digit values count as equal.
EQUAL_RTOL = sp.Float("1e-35", DIGITS)
#: Relative difference above which two values count as clearly different.
DIFFER_RTOL = sp.Float("1e-15", DIGITS)
#: Small integers tried, in order, when looking for a readable counterexample.
SMALL_VALUES = (2, -1, 0, 3, -2)
#: Values tried last, one symbol at a time, for a claim wrong only far from 1.
LARGE_VALUES = (10, -10, 100, -100, 1000, -1000)
#: Number of random points a numeric comparison uses.
POINTS = 12


class _OutOfRange:
    """The value of an expression too large (or too small) to compute at a point."""

    def __repr__(self) -> str:
        return "OUT_OF_RANGE"

    def __reduce__(self):
        return "OUT_OF_RANGE"           # one instance, also after pickling


#: Returned by :func:`evaluate` for a value beyond double range somewhere inside.
OUT_OF_RANGE = _OutOfRange()
#: Powers with an integer exponent up to this size are evaluated without the range check.
SMALL_EXPONENT = 64
#: Largest argument of exp/sinh/cosh that double precision can hold the value of.
GROWTH_LIMIT = 700
#: Largest number of bits of an exact rational value (numerator or denominator).
MAX_EXACT_BITS = 4000
_GROWING = (sp.exp, sp.sinh, sp.cosh)


def evaluate(expr: sp.Expr, point: dict, digits: int = DIGITS):
    """Value of ``expr`` at ``point`` (``{Symbol: Rational}``): exact when rational.

    Returns a SymPy ``Rational`` when the value is exact and rational, a ``Float``
    with ``digits`` significant digits otherwise, ``None`` where the expression is
    undefined or not real (division by zero, log of a negative number), and
    :data:`OUT_OF_RANGE` where a power or an exp/sinh/cosh inside it leaves double
    range (checked in double precision before anything exact is computed).
    """
    if _risky(expr) and _out_of_range(expr, point):
        return OUT_OF_RANGE
    try:
        if _substitute_first(expr):
            value = expr.xreplace(point)      # exact arithmetic where it is possible
            if value.is_Rational:
                return _bounded(value)
            expr, point = value, {}           # (division by zero: zoo, undefined)
        return _numeric(expr, point, digits)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None


#: Largest tree with functions that is evaluated exactly first (``exp(0)`` is 1).
SMALL_TREE = 300


@lru_cache(maxsize=1024)
def _substitute_first(expr) -> bool:
    """Substitute exactly first (a rational function, or a small tree): the value
    may be rational.  Large trees with functions go straight to :func:`_numeric`."""
    nodes = list(sp.preorder_traversal(expr))
    return len(nodes) <= SMALL_TREE or not any(
        node.is_Function or node.is_NumberSymbol or (node.is_Pow and not node.exp.is_Integer)
        for node in nodes)


#: Extra digits the memoised evaluation works with, against cancellation.
GUARD_DIGITS = 20
_MPMATH = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.tanh: mpmath.tanh,
           sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.sech: mpmath.sech,
           sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.Abs: abs}


def _numeric(expr, point: dict, digits: int):
    """``expr`` at ``point`` as a ``Float``, or None if not real (or not a number).

    Like ``expr.xreplace(point).evalf(digits)``, but every distinct subtree is
    computed once (an expanded derivative repeats ``tanh(...)`` of the same sum
    many times), in mpmath with :data:`GUARD_DIGITS` more digits instead of
    evalf's adaptive retries.  Nodes it does not know (ReLU's ``Piecewise``) are
    left to ``evalf``.
    """
    memo: dict = {}

    def walk(e):
        found = memo.get(e)
        if found is not None:
            return found
        if e.is_Symbol:
            if e not in point:
                raise TypeError(f"no value for {e}")
            e = point[e]
        if e.is_Rational:
            v = mpmath.mpf(e.p) / e.q
        elif e.is_Float:
            v = mpmath.mpf(e)
        elif e.is_Add:
            v = mpmath.fsum(walk(a) for a in e.args)
        elif e.is_Mul:
            v = mpmath.fprod(walk(a) for a in e.args)
        elif e.is_Pow:
            base = walk(e.base)
            v = base ** int(e.exp) if e.exp.is_Integer else mpmath.power(base, walk(e.exp))
        elif type(e) in _MPMATH and len(e.args) == 1:
            v = _MPMATH[type(e)](walk(e.args[0]))
        else:
            v = mpmath.mpmathify(e.xreplace(point).evalf(digits + GUARD_DIGITS))
        memo[e] = v
        return v

    with mpmath.workdps(digits + GUARD_DIGITS):
        v = walk(expr)
        if isinstance(v, mpmath.mpc):
            if v.imag != 0:
                return None
            v = v.real
        if not mpmath.isfinite(v):
            return None
        return sp.Float(v, digits)


def _bounded(value):
    """An exact rational with a huge numerator or denominator becomes a Float."""
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > MAX_EXACT_BITS:
        return value.evalf(DIGITS)
    return value


@lru_cache(maxsize=1024)
def _risky(expr) -> bool:
    """Whether ``expr`` holds an exp/sinh/cosh or a power whose size is not obvious.

    Powers with a small exponent (``x**2``, ``(1 + exp(-z))**-2``, ``x**(1/2)``)
    are safe at our points; others (``x**x``, ``x**5000``) are checked first.
    """
    for node in sp.preorder_traversal(expr):
        if isinstance(node, _GROWING):
            return True
        if node.is_Pow and not (node.exp.is_Rational and node.exp.q <= SMALL_EXPONENT
                                and abs(node.exp.p) <= SMALL_EXPONENT):
            return True
    return False


def _out_of_range(expr, point) -> bool:
    """True when, in double precision, a power or an exp/sinh/cosh leaves double range.

    ``exp(exp(exp(exp(exp(x)))))`` at x = 5/2 is about exp(10**84700) and
    ``x^x^x^x^x`` at x = 3 has trillions of digits: SymPy would try to compute
    them.  A quick pass bottom up, with the point's values as complex doubles,
    finds such a node first (each distinct subtree once).  Nodes it cannot
    approximate (ReLU's Piecewise, tanh) give NaN, which is never out of range.
    """
    memo: dict = {}

    def approx(e):
        found = memo.get(e)
        if found is None:
            found = memo[e] = _approx(e)
        return found

    def _approx(e):
        if e.is_Symbol:
            return complex(point[e]) if e in point else complex(math.nan)
        if e.is_Number or e.is_NumberSymbol:
            try:
                return complex(e)
            except (OverflowError, TypeError, ValueError):
                return complex(math.inf)
        args = [approx(a) for a in e.args if isinstance(a, sp.Expr)]
        growing = isinstance(e, _GROWING)
        try:
            if growing:
                if abs(args[0].real) > GROWTH_LIMIT:
                    raise OverflowError
                value = getattr(cmath, type(e).__name__)(args[0])
            elif e.is_Add:
                value = sum(args)
            elif e.is_Mul:
                value = prod(args)
            elif e.is_Pow:
                value = _power(*args)
            else:
                return complex(math.nan)
        except (ValueError, TypeError, ZeroDivisionError):
            return complex(math.nan)
        if (growing or e.is_Pow) and (cmath.isinf(value) or 0 < abs(value) < 1e-300):
            raise OverflowError
        return value

    try:
        approx(expr)
    except (OverflowError, RecursionError):
        return True
    return False


def _power(base: complex, power: complex) -> complex:
    """``base ** power`` in complex doubles (OverflowError when it leaves range)."""
    if base == 0:
        return 0j
    if base.imag == 0 and power.imag == 0 and (base.real > 0 or power.real.is_integer()):
        return complex(base.real ** power.real)
    return complex(base ** power)


def same_value(u, v):
    """True when ``u`` and ``v`` agree, False when they clearly differ, None if unclear.

    ``None`` (undefined) agrees only with ``None``; :data:`OUT_OF_RANGE` is unclear
    with everything.
    """
    if u is OUT_OF_RANGE or v is OUT_OF_RANGE:
        return None
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
    on_kink: bool = False

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
    if v is OUT_OF_RANGE:
        return "out of range"
    if getattr(v, "is_Rational", False):
        return str(v)
    return str(sp.Float(v, 10))


def json_number(v):
    """A JSON-ready number: ``int`` for integers, ``float`` otherwise, ``None`` if undefined.

    A value beyond double range is the string of its 10-digit form (JSON has no
    infinity).  A rational the float rounds is also given exactly by
    :func:`symgrad.claims.proof.report.exact_number`.
    """
    if v is None or v is OUT_OF_RANGE:
        return None
    if getattr(v, "is_Integer", False) and int(v).bit_length() <= MAX_EXACT_BITS:
        return int(v)
    number = float(v)
    return number if math.isfinite(number) else str(sp.Float(v, 10))


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
    for v in LARGE_VALUES:                 # a claim right on small inputs only
        for s in symbols:
            yield {**base, s: sp.Integer(v)}


def counterexample(a: sp.Expr, b: sp.Expr, *, fallback=None, seed: int = 0,
                   all_symbols=(), on_kink=None, pair=None,
                   prefer=None) -> Counterexample | None:
    """A readable point where ``a`` (claimed) and ``b`` (true) differ, or None.

    Small integers are tried first (all ones, then one or two symbols changed,
    then random values in -2..3); ``fallback`` (a point where they are known to
    differ) is used when no integer point works.  Points where ``on_kink(point)``
    is true (a ReLU exactly on its kink) come last: a counterexample there holds
    only by the convention at the kink, so it is used only when no other point
    differs; it is marked ``on_kink``.  ``pair(point)`` gives both values (by
    default :func:`evaluate` of each).  Points where ``prefer(point)`` is false
    (targets that are no probabilities, say) are tried after the others.

    >>> import sympy as sp
    >>> x1, w211 = sp.symbols("x1 w211", real=True)
    >>> counterexample(x1, w211 * x1).text()
    'x1=1, w211=2: claimed 1, true 2'
    """
    symbols = sorted(a.free_symbols | b.free_symbols, key=_symbol_order)
    others = bool(set(all_symbols) - set(symbols))
    both = pair or (lambda point: (evaluate(a, point), evaluate(b, point)))

    def differs(point):
        u, v = both(point)
        return u is not None and v is not None and same_value(u, v) is False

    on_kinks: list = []
    later: list = []
    deferring = prefer is not None
    for point in chain(_candidate_points(symbols, seed), [None], later):
        if point is None:                   # the preferred points are all tried
            deferring = False
            continue
        if on_kink is not None and on_kink(point):
            on_kinks.append(point)
        elif deferring and not prefer(point):
            later.append(point)
        elif differs(point):
            u, v = both(point)
            return Counterexample(point, u, v, others)
    if fallback is not None:
        point = {s: fallback[s] for s in symbols if s in fallback}
        return Counterexample(point, evaluate(a, fallback), evaluate(b, fallback), others)
    for point in on_kinks:
        if differs(point):
            u, v = both(point)
            return Counterexample(point, u, v, others, on_kink=True)
    return None


def _symbol_order(s):
    """Inputs first, then targets, weights, biases, others; by name within a kind."""
    kinds = "xywb"
    head = s.name[:1]
    return (kinds.index(head) if head in kinds else len(kinds), len(s.name), s.name)
