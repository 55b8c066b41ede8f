"""Diagnoses held to their evidence: each one checked at the counterexample shown.

:func:`symgrad.claims.diagnose.diagnose` states a relation only when it holds at
the diagnosis points; :func:`diagnosis_for` also checks it at the counterexample
that the verdict prints beside it, and says less (``other``, no simple relation)
when it fails there.  A counterexample on a kink gets no relation at all: there
the claim and the truth differ only by a convention.
"""

from __future__ import annotations

from symgrad.claims.diagnose import NO_RELATION, Diagnosis, diagnose
from symgrad.claims.notation.answer import explain
from symgrad.claims.points import evaluate, same_value
from symgrad.claims.proof.kinks import boundaries, network_boundaries, off_kinks
from symgrad.claims.proof.sample import diagnosis_points

#: The diagnosis of a claim that differs from the truth only at a kink.
ON_KINK = ("claimed and true agree off the kinks and differ only at a kink, where a "
           "convention decides (see the note)")


def evidence_points(net, symbols, claimed, true, seed: int) -> tuple:
    """``(points, kinks of the network)`` for a diagnosis of ``claimed`` against ``true``
    (:func:`symgrad.claims.proof.sample.diagnosis_points`)."""
    guard = network_boundaries(net)
    return diagnosis_points(symbols, (claimed, true), seed, boundaries(claimed, true),
                            guard), guard


def explained(case, ce, weight_template: str, output: str | None) -> tuple:
    """``(diagnosis, reason, derive command, telling counterexample or None)`` for a
    wrong claim: :func:`diagnosis_for`, then the student's explanation
    (:func:`symgrad.claims.notation.answer.explain`), whose telling point is kept
    only when it keeps off the kinks and fits the diagnosis."""
    diagnosis = diagnosis_for(case, ce)
    reason, see, better = explain(case, diagnosis, ce, weight_template, output)
    if better is not None and not fits(diagnosis, case, better):
        better = None
    return diagnosis, reason, see, better


def diagnosis_for(case, ce) -> Diagnosis:
    """The diagnosis of ``case``, consistent with the counterexample ``ce``."""
    if ce is not None and ce.on_kink:
        return Diagnosis("other", ON_KINK)
    return checked(diagnose(case), case, ce)


def checked(diagnosis: Diagnosis, case, ce) -> Diagnosis:
    """``diagnosis`` if its relation also holds at the counterexample ``ce``, else
    :data:`NO_RELATION` (a diagnosis never contradicts the counterexample shown).

    Symbols the counterexample leaves free take the values of a diagnosis point."""
    if diagnosis.relation is None or ce is None:
        return diagnosis
    lhs, rhs = diagnosis.relation
    kinks = boundaries(lhs, rhs)
    completions = [{**p, **ce.values} for p in case.points] or [dict(ce.values)]
    point = next((p for p in completions if off_kinks(kinks, p)), completions[0])
    if same_value(evaluate(lhs, point), evaluate(rhs, point)) is True:
        return diagnosis
    return Diagnosis("other", NO_RELATION)


def fits(diagnosis: Diagnosis, case, ce) -> bool:
    """Whether another counterexample ``ce`` keeps off the kinks of both sides and
    fits ``diagnosis`` (so it may be shown instead)."""
    return (off_kinks(boundaries(case.claimed, case.true), ce.values)
            and checked(diagnosis, case, ce) is diagnosis)


__all__ = ["ON_KINK", "checked", "diagnosis_for", "evidence_points", "explained", "fits"]
