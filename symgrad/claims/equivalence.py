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
   "equal at N random points (not proved)".  Points where the two values cannot
   be told apart or told equal (a value beyond double range, a difference below
   the noise of 50 digits but above exactness) prove nothing: if some remain and
   no proof is found, the decision is *undecided* (``equal`` is None).

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

import math
from dataclasses import dataclass
from fractions import Fraction
from math import prod

import sympy as sp

from symgrad.claims.points import (
    DIGITS,
    OUT_OF_RANGE,
    POINTS,
    Counterexample,
    counterexample,
    evaluate,
    random_points,  # noqa: F401  (the doctests and callers use it from here)
    same_value,
)
from symgrad.claims.proof.cases import prove_by_cases
from symgrad.claims.proof.kinks import boundaries, conventions, off_kinks, values
from symgrad.claims.proof.sample import decision_points
from symgrad.limits import MAX_CASE_WORK, MAX_PATTERNS

#: Largest estimated number of terms ``expand`` may produce in a proof attempt.
MAX_TERMS = 2000
#: Largest ``count_ops`` for ``cancel`` and for the rewrite to ``exp``.
MAX_OPS = 160
#: Largest number of symbols plus function values for a ``cancel``.
MAX_GENERATORS = 12
#: Pairs this small are tried for a proof before any numeric test.
SMALL_OPS = 60

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
    if expr.is_Pow and expr.exp.is_Integer:
        # a negative power expands too: cancel/together/expand work on its denominator
        base, power = _terms(expr.base), abs(int(expr.exp))
        return MAX_TERMS + 1 if base > 1 and power > 30 else base ** power
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


@dataclass
class Decision:
    """The outcome of :func:`decide`.

    ``equal`` is the verdict, None when undecided; ``proved`` says whether it rests
    on an exact argument (a counterexample is exact too: both values are computed
    at that point); ``method`` is ``"proved symbolically"``, ``"equal at N random
    points (not proved)"``, ``"counterexample"``, or for an undecided pair what is
    known (``"equal at 3 of 12 random points; ..."``).
    """

    equal: bool | None
    proved: bool
    method: str
    counterexample: Counterexample | None = None
    note: str | None = None


def decide(claimed: sp.Expr, true: sp.Expr, *, points: int = POINTS, seed: int = 0,
           symbols=(), proof_forms=(), progress=None, prefer=None) -> Decision:
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
    progress : callable, optional
        Told what is known before each costly step, so that a caller whose budget
        runs out can still say it: ``progress("agree", n)`` when the sides agree at
        ``n`` points before the proof in base symbols, ``progress("differ",
        counterexample)`` when they differ at a random point, before the search
        for a small-integer counterexample.
    prefer : callable, optional
        ``prefer(point)``: whether a counterexample there reads naturally (targets
        that are probabilities); others are shown only when none of these differs.

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
    bounds = boundaries(claimed, true)
    search = {"pair": lambda point: tuple(values((claimed, true), point)), "prefer": prefer,
              "on_kink": (lambda point: not off_kinks(bounds, point)) if bounds else None}
    agreed = unclear = 0
    for point, wide in decision_points(free, points, seed, bounds):
        u, v = values((claimed, true), point)
        same = same_value(u, v)
        if same is False and wide:      # far from 1: confirm with twice the digits
            same = same_value(evaluate(claimed, point, 2 * DIGITS),
                              evaluate(true, point, 2 * DIGITS))
        if same is False:
            if progress is not None:
                progress("differ", random_counterexample(claimed, true, point, symbols))
            ce = counterexample(claimed, true, fallback=point, seed=seed, all_symbols=symbols,
                                **search)
            return Decision(False, True, DISPROVED, ce)
        agreed += same is True
        unclear += same is None and not wide     # a wide point may leave double range
    if progress is not None:
        progress("agree", agreed)
    if any(prove_equal(a, b) for a, b in forms):
        return Decision(True, True, PROVED)
    cases = (prove_by_cases(claimed, true, prove_equal, MAX_PATTERNS, MAX_CASE_WORK)
             if bounds else None)
    if cases is not None and cases.proved:
        return Decision(True, True, by_cases(cases.patterns))
    if unclear or bounds:
        ce = counterexample(claimed, true, seed=seed, all_symbols=symbols, **search)
        if ce is not None:
            return Decision(False, True, DISPROVED, ce, _kink_note(ce, claimed, true))
    if unclear:
        return Decision(None, False, f"equal at {agreed} of {agreed + unclear} random points, "
                                     "the others beyond double range or too close to call; "
                                     "no proof found")
    note = None
    if cases is not None and cases.stopped:
        note = f"no proof by case analysis: {cases.stopped}"
    return Decision(True, False, numeric_method(agreed), note=note)


def by_cases(n: int) -> str:
    """The method of a proof by case analysis over ``n`` activation patterns."""
    return f"proved by case analysis over {n} activation pattern{'s' * (n != 1)}"


def _kink_note(ce, claimed, true):
    """For a counterexample on a kink: the note that says so, and which convention."""
    if not ce.on_kink:
        return None
    said = conventions((claimed, true), ce.values)
    which = (f", where symgrad takes {', '.join(said)} (the left slope, as PyTorch does)"
             if said else "")
    return (f"wrong only at a kink: at this counterexample a piecewise-linear activation sits "
            f"exactly on its kink{which}; off every kink the two sides agree at every point "
            "tried")


def random_counterexample(claimed, true, point, symbols=()) -> Counterexample:
    """The counterexample at a random ``point`` where the sides are known to differ."""
    free = claimed.free_symbols | true.free_symbols
    values = {s: point[s] for s in sorted(free, key=sp.default_sort_key) if s in point}
    return Counterexample(values, evaluate(claimed, point), evaluate(true, point),
                          bool(set(symbols) - free))


def agree(a: sp.Expr, b: sp.Expr, points: list) -> bool:
    """True when ``a`` and ``b`` take the same value at every one of ``points``."""
    return all(same_value(evaluate(a, p), evaluate(b, p)) is True for p in points)


#: Points with nonzero sides a relation needs to be stated (fewer if there are fewer).
MIN_INFORMATIVE = 3


def constant_ratio(a: sp.Expr, b: sp.Expr, points: list, least: int = 1):
    """The constant ``c`` with ``a == c*b`` at every point, as a small Rational, or None.

    A point where ``b`` is 0 and ``a`` is not rules every constant out; where both
    are 0 it says nothing.  At least ``least`` points (or all, if fewer) must have
    nonzero sides.  Exact ratios give ``c`` exactly (``1 + 1/10**40`` is a constant).

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> constant_ratio(-2 * x, x, random_points({x}, 3))
    -2
    """
    ratios = []
    for p in points:
        u, v = evaluate(a, p), evaluate(b, p)
        if any(w is None or w is OUT_OF_RANGE for w in (u, v)):
            continue
        if v == 0:
            if same_value(u, v) is not True:
                return None
            continue
        ratios.append(u / v)
    if not ratios or len(ratios) < min(least, len(points)):
        return None
    first = ratios[0]
    if first.is_Rational:
        c = first if abs(first) <= 10**6 else None
        if c is None:
            return None
    else:
        number = float(first)
        if not math.isfinite(number) or abs(number) > 1e6:   # no small constant
            return None
        guess = Fraction(number).limit_denominator(1000)
        c = sp.Rational(guess.numerator, guess.denominator)
    if c == 0 or not all(same_value(r, c) is True for r in ratios):
        return None
    return c
