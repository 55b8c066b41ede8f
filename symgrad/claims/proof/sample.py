"""Where to look: random points for a decision, and informative points for a diagnosis.

A decision (:func:`decision_points`) looks at points of several magnitudes: two
thirds with every value between 1/4 and 5/2, the rest with about half of the
values scaled by 10, 100 or 1000 (a claim such as ``a21 + relu(x1**2 - 400)``
agrees with the truth until ``|x1| > 20``).  Every point keeps off the kinks of
both sides, so a verdict never rests on a convention at a kink.

A diagnosis (:func:`diagnosis_points`) needs points that can tell relations
apart: off every kink of the network and of the claim, one or two points in each
activation pattern the two sides can tell apart (which ReLUs are on), and
preferably points where neither side is 0 (a ReLU switched off makes both sides
0, which agrees with every relation and so proves none).
"""

from __future__ import annotations

import random

import sympy as sp

from symgrad.claims.points import OUT_OF_RANGE
from symgrad.claims.proof.kinks import off_kinks, pattern, values

#: Scales of the wide points of a decision, in turn.
WIDE_SCALES = (10, 100, 1000)
#: Candidate points tried per point wanted, to find points off the kinks.
TRIES = 8
#: Fewest and most points of a diagnosis; candidates examined for one.
DIAGNOSIS_POINTS, MAX_DIAGNOSIS_POINTS, DIAGNOSIS_CANDIDATES = 8, 24, 64
#: Points kept per activation pattern (the best-scored ones).
PER_PATTERN = 2


def _stream(symbols, seed: int, wide: bool):
    """Random points with values ``±k/64``, 16 <= k <= 160; scaled when ``wide``."""
    rng = random.Random(seed)
    ordered = sorted(symbols, key=sp.default_sort_key)
    i = 0
    while True:
        scale = WIDE_SCALES[i % len(WIDE_SCALES)]
        point = {}
        for s in ordered:
            v = sp.Rational(rng.choice((-1, 1)) * rng.randint(16, 160), 64)
            if wide and rng.random() < 0.5:
                v *= scale
            point[s] = v
        i += 1
        yield point


def _take(stream, n: int, bounds) -> list:
    """``n`` points of ``stream`` off the kinks (points on one are skipped, a few
    times; if the kinks are everywhere, as in ``relu(x - x)`` written oddly, the
    skipped points make up the number)."""
    out: list = []
    skipped: list = []
    for _ in range(n * TRIES):
        if len(out) == n:
            break
        point = next(stream)
        (out if not bounds or off_kinks(bounds, point) else skipped).append(point)
    return out + skipped[:n - len(out)]


def decision_points(symbols, n: int, seed: int = 0, bounds=()) -> list:
    """``[(point, wide), ...]``: ``n - n // 3`` small points, then ``n // 3`` wide ones,
    all off the kinks ``bounds``."""
    wide = n // 3
    small = _take(_stream(symbols, seed, False), n - wide, bounds)
    large = _take(_stream(symbols, seed + 7919, True), wide, bounds)
    return [(p, False) for p in small] + [(p, True) for p in large]


def _score(exprs, point) -> int:
    """How many of ``exprs`` are defined and nonzero at ``point``."""
    return sum(v is not None and v is not OUT_OF_RANGE and v != 0
               for v in values(exprs, point))


def diagnosis_points(symbols, sides, seed: int = 0, bounds=(), guard=()) -> list:
    """Points for a diagnosis of ``sides`` (claimed, true; base symbols).

    Every point is off the kinks ``guard`` (the network's) and ``bounds`` (those of
    the two sides); together they cover each pattern of ``bounds`` met among
    :data:`DIAGNOSIS_CANDIDATES` random points, with up to :data:`PER_PATTERN`
    points each, the ones where both sides are nonzero first.
    """
    candidates = DIAGNOSIS_CANDIDATES if bounds else 2 * DIAGNOSIS_POINTS
    stream = _stream(symbols, seed, False)
    every = list(bounds) + [b for b in guard if b not in bounds]
    groups: dict = {}
    for _ in range(candidates):
        point = next(stream)
        signs = pattern(every, point) if every else ()
        if signs is None:
            continue
        group = groups.setdefault(signs[:len(bounds)], [])
        if len(group) < 2 * PER_PATTERN:
            group.append(point)
    scores: dict = {}

    def score(p) -> int:
        key = id(p)
        if key not in scores:
            scores[key] = _score(sides, p)
        return -scores[key]

    scored = {key: sorted(group, key=score) for key, group in groups.items()}
    chosen: list = []
    for rank in range(PER_PATTERN):
        for group in scored.values():
            if rank < len(group) and len(chosen) < MAX_DIAGNOSIS_POINTS:
                chosen.append(group[rank])
    rest = [p for group in scored.values() for p in group[PER_PATTERN:]]
    rest.sort(key=score)
    chosen += rest[:max(0, DIAGNOSIS_POINTS - len(chosen))]
    return chosen


__all__ = ["decision_points", "diagnosis_points"]
