"""Deciding whether two expressions are identically equal, with counterexamples.

A claim about a derivative is an identity: it must hold for every input, target
and parameter.  :func:`decide` settles ``claimed == true`` in two stages:

1. **Cheap exact proofs.**  Structural equality, ``expand(a - b) == 0``,
   ``cancel``, and for tanh/sigmoid/exp expressions a rewrite to ``exp`` followed
   by ``cancel``; ReLU's ``Piecewise`` is folded and compared branch by branch.
   Each step runs only when the expression is small enough for it (we estimate
   the size of the expansion before expanding), so a decision never hangs the way
   unbounded ``simplify`` or ``equals`` can on a three-layer derivative.
2. **Numbers.**  Both sides are evaluated at random points of both signs with
   exact rational inputs and 50 significant digits (SymPy ``evalf``).  One clear
   mismatch proves the claim wrong; agreement at every point is reported as
   "equal at N random points (not proved)".

When the sides differ, :func:`counterexample` looks for a point with small
integer values (``x1=1, w211=2``) where they differ, and reports both values.

>>> import sympy as sp
>>> x1, w211 = sp.symbols("x1 w211", real=True)
>>> decide(w211 * x1, x1 * w211).method
'proved symbolically'
>>> d = decide(x1, w211 * x1)
>>> d.equal, d.counterexample.text()
(False, 'x1=1, w211=2: claimed 1, true 2')
"""

from __future__ import annotations

import cmath
import random
from dataclasses import dataclass
from fractions import Fraction
from math import prod

import sympy as sp

#: Number of random points a numeric comparison uses.
POINTS = 12
#: Significant digits of every numeric evaluation.
DIGITS = 50
#: Relative difference below which two 50-digit values count as equal.
EQUAL_RTOL = sp.Float("1e-35", DIGITS)
#: Relative difference above which two values count as clearly different.
DIFFER_RTOL = sp.Float("1e-15", DIGITS)
#: Largest estimated number of terms ``expand`` may produce in a proof attempt.
MAX_TERMS = 2000
#: Largest ``count_ops`` for ``cancel`` and for the rewrite to ``exp``.
MAX_OPS = 160
#: Largest number of symbols plus function values for a ``cancel``.
MAX_GENERATORS = 12
#: Pairs this small are tried for a proof before any numeric test.
SMALL_OPS = 60
#: Small integers tried, in order, when looking for a readable counterexample.
SMALL_VALUES = (2, -1, 0, 3, -2)

PROVED = "proved symbolically"
DISPROVED = "counterexample"


def numeric_method(n: int) -> str:
    """The method string of a numeric-only verdict: ``"equal at 12 random points (not proved)"``."""
    return f"equal at {n} random points (not proved)"


def _terms(expr) -> int:
    """Upper bound on the number of terms ``expand(expr)`` produces (cheap, no expansion)."""
    if expr.is_Add:
        return sum(_terms(a) for a in expr.args)
    if expr.is_Mul:
        return prod(_terms(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base = _terms(expr.base)
        return MAX_TERMS + 1 if base > 1 and expr.exp > 30 else base ** int(expr.exp)
    return 1


def _is_zero(expr) -> bool:
    """Try the cheap exact proofs that ``expr`` is identically zero."""
    if expr == 0:
        return True
    if expr.has(sp.Piecewise):
        expr = sp.piecewise_fold(expr)
        if isinstance(expr, sp.Piecewise):
            return all(_is_zero(branch) for branch, _ in expr.args)
        if expr.has(sp.Piecewise):
            return False
    if _terms(expr) <= MAX_TERMS and sp.expand(expr) == 0:
        return True
    # cancel works in a polynomial ring over every symbol and function value; its
    # cost grows quickly with their number, so it only runs on small problems.
    if not small_enough(expr):
        return False
    if sp.cancel(sp.together(expr)) == 0:
        return True
    if expr.has(sp.Function):
        rewritten = expr.rewrite(sp.exp)
        if small_enough(rewritten) and sp.cancel(sp.together(rewritten)) == 0:
            return True
    return False


def small_enough(expr, ops: int = MAX_OPS) -> bool:
    """Whether ``cancel``/``factor`` on ``expr`` stays cheap (they expand powers of sums)."""
    if _terms(expr) > MAX_TERMS:
        return False
    count, gens = sp.count_ops(expr), generators(expr)
    # many generators are fine in a short expression (intermediate names), not in a long one
    return count <= ops and (gens <= MAX_GENERATORS or (count <= SMALL_OPS and gens <= 30))


def generators(expr) -> int:
    """Symbols plus function values: the size of the ring ``cancel`` would work in."""
    return len(expr.free_symbols) + len(expr.atoms(sp.Function))


def prove_equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Return True when a cheap exact argument shows ``a == b`` identically.

    False means "not proved", not "different".  Work is bounded by the size of the
    expressions, so this returns quickly even on large derivatives.

    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> prove_equal(1 - sp.tanh(z)**2, sp.sech(z)**2)
    True
    >>> s = 1 / (1 + sp.exp(-z))
    >>> prove_equal(sp.exp(-z) / (1 + sp.exp(-z))**2, s * (1 - s))
    True
    """
    if a == b:
        return True
    try:
        return _is_zero(a - b)
    except (sp.PolynomialError, sp.polys.polyerrors.PolificationFailed, ValueError,
            TypeError, RecursionError):
        return False


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


@dataclass
class Decision:
    """The outcome of :func:`decide`.

    ``equal`` is the verdict; ``proved`` says whether it rests on an exact argument
    (a counterexample is exact too: both values are computed at that point);
    ``method`` is ``"proved symbolically"``, ``"equal at N random points (not
    proved)"`` or ``"counterexample"``.
    """

    equal: bool
    proved: bool
    method: str
    counterexample: Counterexample | None = None


def decide(claimed: sp.Expr, true: sp.Expr, *, points: int = POINTS, seed: int = 0,
           symbols=(), proof_forms=()) -> Decision:
    """Decide whether ``claimed`` and ``true`` are identically equal.

    Parameters
    ----------
    claimed, true : sympy.Expr
        Expressions in the same (base) symbols.
    points : int
        Number of random points for the numeric test.
    seed : int
        Seed of the random points (decisions are reproducible).
    symbols : iterable of Symbol
        Every symbol of the setting; those absent from both sides are reported
        as free in a counterexample ("other symbols any value").
    proof_forms : iterable of (Expr, Expr)
        Other forms of the same pair (e.g. in intermediate names ``z11``, ``a11``)
        for which an exact proof also settles the question; tried first.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z", real=True)
    >>> decide(sp.Piecewise((1, z > 0), (0, True)), sp.Heaviside(z)).method
    'equal at 12 random points (not proved)'
    """
    # Cheap proofs in the given forms first (in intermediate names they are tiny),
    # then numbers, and only when the numbers agree the (costlier) proof in base
    # symbols: a wrong claim never pays for a proof attempt.
    forms = tuple(proof_forms) + ((claimed, true),)
    if any(a == b for a, b in forms) or any(
            sp.count_ops(a) + sp.count_ops(b) <= SMALL_OPS and prove_equal(a, b)
            for a, b in forms):
        return Decision(True, True, PROVED)
    free = claimed.free_symbols | true.free_symbols
    for point in random_points(free, points, seed):
        u, v = evaluate(claimed, point), evaluate(true, point)
        if same_value(u, v) is False:
            ce = counterexample(claimed, true, fallback=point, seed=seed, all_symbols=symbols)
            return Decision(False, True, DISPROVED, ce)
    if any(prove_equal(a, b) for a, b in forms):
        return Decision(True, True, PROVED)
    return Decision(True, False, numeric_method(points))


def agree(a: sp.Expr, b: sp.Expr, points: list) -> bool:
    """True when ``a`` and ``b`` take the same value at every one of ``points``."""
    return all(same_value(evaluate(a, p), evaluate(b, p)) is True for p in points)


def constant_ratio(a: sp.Expr, b: sp.Expr, points: list):
    """The constant ``c`` with ``a == c*b`` at every point, as a small Rational, or None.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> constant_ratio(-2 * x, x, random_points({x}, 3))
    -2
    """
    ratios = []
    for p in points:
        u, v = evaluate(a, p), evaluate(b, p)
        if u is None or v is None or v == 0:
            continue
        ratios.append(u / v)
    if not ratios:
        return None
    guess = Fraction(float(ratios[0])).limit_denominator(1000)
    c = sp.Rational(guess.numerator, guess.denominator)
    if c == 0 or not all(same_value(r, c) is True for r in ratios):
        return None
    return c
