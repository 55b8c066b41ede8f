"""Numbers in JSON: the float, and the exact rational beside it when the float rounds.

A counterexample's values are exact rationals; JSON numbers are doubles, which
would show ``1 + 1/10**20`` as ``1.0``.  :func:`json_counterexample` keeps the
float where it is (for scripts that want a number) and adds an ``exact`` object
with the same keys, holding ``"p/q"`` strings, for every number the float rounds.

>>> import sympy as sp
>>> ce = json_counterexample({"x1": sp.Integer(1)}, {"claimed": 1 + sp.Rational(1, 10**20),
...                                                 "true": sp.Integer(1)})
>>> ce["claimed"], ce["true"], ce["exact"]
(1.0, 1, {'claimed': '100000000000000000001/100000000000000000000'})
"""

from __future__ import annotations

import math
from fractions import Fraction

from symgrad.claims.points import MAX_EXACT_BITS, json_number


def exact_number(v) -> str | None:
    """``"p/q"`` for a rational that :func:`json_number` would round, else None.

    >>> import sympy as sp
    >>> exact_number(sp.Rational(10**20 + 1, 10**20))
    '100000000000000000001/100000000000000000000'
    >>> exact_number(sp.Rational(3, 4)) is None
    True
    """
    if not getattr(v, "is_Rational", False) or v.is_Integer:
        return None
    if max(v.p.bit_length(), v.q.bit_length()) > MAX_EXACT_BITS:
        return None
    number = float(v)
    if math.isfinite(number) and Fraction(number) == Fraction(int(v.p), int(v.q)):
        return None
    return f"{v.p}/{v.q}"


def json_counterexample(values: dict, sides: dict) -> dict:
    """The JSON object of a counterexample: ``{"values": {name: number}, <side>: number,
    ..., "exact": {...}}``, where ``exact`` repeats, as ``"p/q"`` strings and in the
    same places, every number a float would round (only present when there is one)."""
    out: dict = {"values": {k: json_number(v) for k, v in values.items()}}
    out.update({k: json_number(v) for k, v in sides.items()})
    exact: dict = {}
    shown = {k: exact_number(v) for k, v in values.items()}
    if any(shown.values()):
        exact["values"] = {k: t for k, t in shown.items() if t}
    exact.update({k: t for k, t in ((k, exact_number(v)) for k, v in sides.items()) if t})
    if exact:
        out["exact"] = exact
    return out


__all__ = ["exact_number", "json_counterexample"]
