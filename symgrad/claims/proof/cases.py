"""Proofs on piecewise networks, by case analysis over activation patterns.

On a ReLU network every neuron is one of two polynomials, depending on the sign
of its pre-activation.  Fix the sign of every kink boundary (innermost first: a
layer's pre-activations only become polynomials once the layer below is fixed)
and each side of a claim becomes an ordinary expression; if the two are equal
on every such *pattern*, the claim holds everywhere.

Soundness:

- Each boundary's sign is split so that every kinked function of it takes one
  branch on each case, kink included: for ``relu`` (``u > 0`` else) the cases are
  ``u > 0`` and ``u <= 0``, so the point ``u = 0`` is decided with symgrad's
  convention (the table's ``Piecewise``: ``relu'(0) = 0``).  A claim that uses
  the same boundary the other way round (``step(-z)``) splits off ``u = 0`` as a
  case of its own.
- Patterns that cannot occur are *not* removed (except where a boundary is a
  constant on that case): showing the sides equal on a pattern that never
  happens costs a proof attempt, never soundness.
- Each case is proved with the caller's exact test (``prove``); a case it
  cannot prove leaves the claim not proved.

The number of cases doubles with each kink the claim can tell apart; past
``limit`` the analysis stops and proves nothing.

>>> import sympy as sp
>>> from symgrad.activations import forward, derivative
>>> from symgrad.claims.equivalence import prove_equal
>>> z = sp.Symbol("z", real=True)
>>> r = prove_by_cases(z * derivative("relu", z, None), forward("relu", z), prove_equal)
>>> r.proved, r.patterns
(True, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symgrad.claims.proof.kinks import U, kinked_classes, pieces

_SIGNS = frozenset((-1, 0, 1))
_TRUTH = {">": lambda s: s > 0, ">=": lambda s: s >= 0, "<": lambda s: s < 0,
          "<=": lambda s: s <= 0, "==": lambda s: s == 0, "!=": lambda s: s != 0}


class _GiveUp(Exception):
    """The analysis cannot go on (too many cases, a condition it cannot read)."""


@dataclass
class Cases:
    """The outcome of :func:`prove_by_cases`.

    ``proved``: equal on every case.  ``patterns``: cases examined.  ``failed``:
    the cases not proved, each a dict ``{boundary: frozenset of signs}``.
    ``stopped``: why the analysis stopped early (too many cases), else None.
    """

    proved: bool
    patterns: int
    failed: list = field(default_factory=list)
    stopped: str | None = None

    @property
    def only_at_kinks(self) -> bool:
        """Every case not proved lies on a kink (some boundary exactly 0)."""
        return bool(self.failed) and all(any(s == frozenset((0,)) for s in case.values())
                                         for case in self.failed)


def _normal(b):
    """``(p, k)`` with ``b = k*c*p`` for a constant ``c > 0`` and ``k = ±1``, p canonical;
    ``(None, sign)`` when ``b`` is a number."""
    e = sp.expand(b)
    if e.is_number:
        if not e.is_comparable:
            raise _GiveUp("a boundary that is not a real number")
        return None, (e > 0) - (e < 0)
    _, p = e.as_content_primitive()
    if p.could_extract_minus_sign():
        return -p, -1
    return p, 1


def prove_by_cases(a, b, prove, limit: int = 1024, work: int | None = None) -> Cases:
    """Prove ``a == b`` case by case over the kinks of both (see the module notes).

    Stops after ``limit`` patterns, or when patterns times the size of ``a`` and ``b``
    (tree nodes; each pattern rewrites and compares them) would pass ``work``.
    """
    classes = kinked_classes()
    result = Cases(False, 0)
    if not classes:
        return result
    if work is not None:
        size = sum(1 for e in (a, b) for _ in sp.preorder_traversal(e))
        limit = min(limit, max(1, work // size))

    normal: dict = {}

    def boundary(condition, arg):
        key = (condition, arg)
        if key not in normal:
            normal[key] = _normal((condition.lhs - condition.rhs).xreplace({U: arg}))
        return normal[key]

    def branch(app, assigned):
        """``(value, None)`` on this case, or ``(None, (p, parts))`` to split ``p`` first."""
        arg = app.args[0]
        for value, condition in pieces(app):
            if condition in (sp.true, sp.false):
                if condition == sp.true:
                    return value.xreplace({U: arg}), None
                continue
            test = _TRUTH.get(str(getattr(condition, "rel_op", "")))
            if test is None:
                raise _GiveUp(f"a condition it cannot read ({condition})")
            p, k = boundary(condition, arg)
            if p is None:                       # a constant boundary on this case
                if test(k):
                    return value.xreplace({U: arg}), None
                continue
            holds = frozenset(s for s in _SIGNS if test(k * s))
            have = assigned.get(p, _SIGNS)
            inside, outside = have & holds, have - holds
            if inside and outside:
                return None, (p, (inside, outside))
            if inside:
                return value.xreplace({U: arg}), None
        raise _GiveUp("no branch of a piecewise function holds")

    def walk(exprs, assigned, ready=None):
        if ready is None:
            ready = sorted({app for e in exprs for app in e.atoms(*classes)
                            if not app.args[0].has(*classes)}, key=sp.default_sort_key)
        if not ready:
            result.patterns += 1
            if result.patterns > limit:
                raise _GiveUp(f"more than {limit} activation patterns")
            if not prove(*exprs) and not _zero_on_kinks(exprs[0], exprs[1], assigned):
                result.failed.append(dict(assigned))
            return
        values = {}
        for app in ready:                       # every innermost function at once
            value, split = branch(app, assigned)
            if split is not None:               # split one boundary's signs, then redo
                p, parts = split
                for part in parts:
                    walk(exprs, {**assigned, p: part}, ready)
                return
            values[app] = value
        walk([e.xreplace(values) for e in exprs], assigned)

    try:
        walk([a, b], {})
    except _GiveUp as exc:
        result.stopped = str(exc)
        return result
    except (sp.PolynomialError, ValueError, TypeError, RecursionError) as exc:
        result.stopped = f"stopped ({type(exc).__name__})"
        return result
    result.proved = not result.failed
    return result


def _zero_on_kinks(a, b, assigned) -> bool:
    """On a case with boundaries fixed at 0: the numerator of ``a - b`` is a multiple
    of them (it lies in the ideal they generate), so it is 0 wherever they are."""
    zeros = [p for p, signs in assigned.items() if signs == frozenset((0,))]
    if not zeros:
        return False
    numerator = sp.fraction(sp.together(a - b))[0]
    gens = sorted(numerator.free_symbols.union(*(p.free_symbols for p in zeros)),
                  key=sp.default_sort_key)
    if not gens or not all(e.is_polynomial(*gens) for e in (numerator, *zeros)):
        return False
    _, remainder = sp.reduced(sp.expand(numerator), zeros, *gens)
    return remainder == 0


__all__ = ["Cases", "prove_by_cases"]
