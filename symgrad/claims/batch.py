"""Checking a list of claims: one budget, one verdict each, matrix claims routed.

:func:`check_all` is what :func:`symgrad.verify` and :func:`symgrad.verify_matrix`
run: it takes a string or a list of strings, opens one worker pool for the whole
list when a time limit is given (each claim then has its own limit), and returns
a verdict per claim in order.  An unreadable claim raises, or, with
``errors="report"``, gets a verdict whose ``error`` says why; an unexpected
failure inside one claim is that claim's ``undecided`` (see
:func:`symgrad.claims.verify.check_claim`).

With ``matrix="auto"`` (what :func:`symgrad.verify` passes) a claim whose left
side names a whole layer's gradient (``dL/dW2``, ``delta1``, ``dL/db2``; see
:func:`symgrad.claims.matrix.sides.looks_matrix`) is checked as a matrix claim,
as ``symgrad verify`` on the command line does, instead of failing on the
unknown name ``W2``.
"""

from __future__ import annotations

from contextlib import nullcontext

from symgrad import budget
from symgrad.claims.case import check_network
from symgrad.claims.verify import Verdict, check_claim
from symgrad.errors import SpecError, SpecTypeError, SymgradError
from symgrad.render.display import ReportList

#: The option names a matrix claim takes (its own reader: no aliases, no notation).
MATRIX_OPTIONS = ("weight_template", "points", "seed")


def claim_texts(claims) -> list:
    """``claims`` as a list: one string, or an iterable of them (checked one by one)."""
    if isinstance(claims, str):
        return [claims]
    if claims is None or isinstance(claims, (bytes, dict)) or not hasattr(claims, "__iter__"):
        raise SpecTypeError(f"claims must be a string or a list of strings, got "
                            f"{type(claims).__name__}")
    return list(claims)


def check_all(net, claims, errors: str, timeout: float | None, *, matrix: str = "never",
              **options) -> list:
    """:func:`check_claim` on each of ``claims`` (``options`` are its keywords), each in a
    worker under ``timeout`` when one is given.

    ``matrix="auto"`` sends each claim that :func:`looks_matrix` to the matrix
    checker (one sample, column vectors), with the options it understands.
    """
    check_network(net)
    if errors not in ("raise", "report"):
        raise SpecError(f"errors must be 'raise' or 'report', got {errors!r}")
    texts = claim_texts(claims)
    limits = budget.Budget(seconds=timeout) if timeout is not None else None
    verdicts = []
    with budget.Pool(limits) if limits else nullcontext() as pool:
        for text in texts:
            try:
                if not isinstance(text, str):
                    raise SpecTypeError(f"a claim must be a string, got {type(text).__name__}")
                verdicts.append(_check_one(net, text, pool, matrix, options))
            except SymgradError as exc:
                if errors == "raise":
                    raise
                verdicts.append(Verdict(str(text), error=str(exc)))
    return ReportList(verdicts)


def _check_one(net, text: str, pool, matrix: str, options: dict):
    if matrix == "auto":
        from symgrad.claims.matrix.check import check_matrix_claim, looks_matrix

        if looks_matrix(text, net):
            kept = {k: options[k] for k in MATRIX_OPTIONS if k in options}
            return check_matrix_claim(net, text, pool=pool, **kept)
    return check_claim(net, text, pool=pool, **options)


__all__ = ["check_all", "claim_texts"]
