"""Verdicts on hand-derived derivatives: correct or wrong, why, and where it fails.

A claim such as ``dz21/dw111 = x1`` is an identity: it must hold for every input,
target and parameter.  :func:`verify` reads claims with :mod:`symgrad.claims.parse` (the
only code that turns user text into SymPy), compares each right-hand side with the
exact derivative from :func:`symgrad.derive.gradients` using
:func:`symgrad.claims.equivalence.decide`, and for a wrong claim adds the true
derivative in the user's names, a small-integer counterexample and a diagnosis
(:mod:`symgrad.claims.diagnose`).

Claims about the cost ``C``: written as a per-sample mean
``(1/m) sum_i S_i`` they are checked summand by summand against ``dL/dparam``.
Written without the mean, ``C`` is read as the cost of one sample (m = 1), which
is the same as ``L``; the verdict carries a note saying so.

>>> import sympy as sp
>>> from symgrad import Network
>>> net = Network([2, 2, 1])
>>> w111, w211, x1 = (net.symbols[n] for n in ("w111", "w211", "x1"))
>>> v = verify_expression(net, "z21", w111, x1)
>>> print(v.to_text(ascii=True))  # doctest: +ELLIPSIS
WRONG dz21/dw111 = x1
    true:           w211*x1
    diagnosis:      missing factor w211 (the chain rule through the output weight w211) ...
    counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from symgrad.claims.diagnose import Diagnosis, compress, diagnose
from symgrad.claims.equivalence import decide
from symgrad.claims.points import POINTS, evaluate, json_number, random_points, same_value
from symgrad.derive import gradients
from symgrad.errors import SpecError, SymgradError
from symgrad.spec import WEIGHT_TEMPLATE, weight_label

#: Marks of the text report, and their ASCII fallbacks for terminals that lack them.
MARKS = {True: "\u2713", False: "\u2717"}
ASCII_MARKS = {True: "OK", False: "WRONG"}
NOTE_SINGLE_SAMPLE = ("C read as the cost of one sample (m = 1), i.e. as L; for a batch write "
                      "dC/dw = (1/m) sum_i ..., or claim dL/dw")


@lru_cache(maxsize=64)
def _truths(net, of_key: str, form: str) -> dict:
    return gradients(net, of_key, form=form)


class Names:
    """How symbols are shown to the user: their weight-name template and aliases.

    Only names that are plain identifiers are used for display; nothing here is
    parsed or evaluated.
    """

    def __init__(self, net, weight_template: str = WEIGHT_TEMPLATE, aliases=None):
        self.rename = {}
        if weight_template != WEIGHT_TEMPLATE:
            for w, (l, j, k) in zip(net.weights, net.spec.weight_index()):
                self.rename[w] = sp.Symbol(weight_label(l, j, k, weight_template), real=True)
        for name, value in dict(aliases or {}).items():
            target = net.symbols.get(value.strip()) if isinstance(value, str) else None
            if target is None and isinstance(value, sp.Symbol):
                target = value
            if target is not None and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
                self.rename[target] = sp.Symbol(str(name), real=True)

    def __call__(self, expr) -> str:
        return str(sp.sympify(expr).xreplace(self.rename)) if self.rename else str(expr)


@dataclass
class Case:
    """Everything the diagnosis needs about one claim (see :mod:`symgrad.claims.diagnose`)."""

    net: object
    of: str
    of_key: str
    parameter: sp.Symbol
    claimed_compact: sp.Expr
    claimed: sp.Expr
    true_compact: sp.Expr
    true: sp.Expr
    points: list
    show: Names

    @property
    def of_loss(self) -> bool:
        return self.of_key == "loss"

    def value(self, expr, i: int):
        """Value of ``expr`` at point ``i`` (memoised: diagnoses reuse them)."""
        memo = self.__dict__.setdefault("_memo", {})
        if (expr, i) not in memo:
            memo[expr, i] = evaluate(expr, self.points[i])
        return memo[expr, i]

    def agree(self, a, b) -> bool:
        """True when ``a`` and ``b`` agree at every point (stops at the first mismatch)."""
        return all(same_value(self.value(a, i), self.value(b, i)) is True
                   for i in range(len(self.points)))

    def truth(self, q, compact: bool = False):
        return _truths(self.net, self.of_key, "compact" if compact else "expanded")[q]

    def compress(self, expr):
        return compress(self.net, expr)


@dataclass
class Verdict:
    """The verdict on one claim; fields match the ``--json`` output.

    ``correct`` is None (and ``error`` says why) when the claim could not be read.
    ``method``: ``"proved symbolically"``, ``"equal at N random points (not
    proved)"`` or ``"counterexample"``.  ``counterexample``:
    ``{"values": {name: number}, "claimed": number, "true": number}``.
    """

    claim: str
    of: str | None = None
    parameter: str | None = None
    correct: bool | None = None
    method: str | None = None
    true: str | None = None
    diagnosis: Diagnosis | None = None
    counterexample: dict | None = None
    notes: tuple = ()
    error: str | None = None
    counterexample_text: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The JSON object of this verdict (``null`` where a field does not apply)."""
        return {"claim": self.claim, "of": self.of, "parameter": self.parameter,
                "correct": self.correct, "method": self.method, "true": self.true,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "counterexample": self.counterexample, "notes": list(self.notes),
                "error": self.error}

    def to_text(self, ascii: bool = False) -> str:
        """The report block: a mark and the claim, then labelled, aligned lines."""
        if self.error is not None:
            return f"{'!' if ascii else '?'} {self.claim}\n    error:          {self.error}"
        mark = (ASCII_MARKS if ascii else MARKS)[bool(self.correct)]
        if self.correct:
            lines = [f"{mark} {self.claim}   ({self.method})"]
        else:
            lines = [f"{mark} {self.claim}", f"    true:           {self.true}"]
            if self.diagnosis:
                d = self.diagnosis
                lines.append(f"    diagnosis:      {d.detail}  [{d.kind}]")
            if self.counterexample_text:
                lines.append(f"    counterexample: {self.counterexample_text}")
        lines += [f"    note:           {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _of_key(net, of: str) -> str:
    if of in ("L", "C", "loss"):
        return "loss"
    if of == "output":
        return "output"
    if of in net.symbols and of[:1] in "za":
        return of
    raise SpecError(f"cannot differentiate {of!r}: use L, C or a neuron's z/a name")


def _linear_names(net) -> dict:
    """``{a{l}{j}: z{l}{j}}`` for linear layers, where the two are the same."""
    return {net.a_symbol(l, j): net.z_symbol(l, j) for l in range(1, net.depth + 1)
            if net.activations[l - 1] == "linear" for j in range(1, net.widths[l] + 1)}


def verify_expression(net, of: str, parameter, claimed, *, per_sample_mean: bool = False,
                      text: str | None = None, notes=(), weight_template: str = WEIGHT_TEMPLATE,
                      aliases=None, points: int = POINTS, seed: int = 0) -> Verdict:
    """Verdict on ``d(of)/d(parameter) = claimed`` for a SymPy right-hand side.

    ``claimed`` may use the network's intermediate names (``z11``, ``a21``); they
    stand for their definitions.  This is the engine behind :func:`verify`, for
    callers that build expressions themselves.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> w211, z11 = net.symbols["w211"], net.symbols["z11"]
    >>> verify_expression(net, "z21", w211, z11).method
    'proved symbolically'
    """
    if parameter not in net.parameters:
        raise SpecError(f"{parameter} is not a parameter of the {net.spec.arch} network "
                        f"(parameters: {', '.join(map(str, net.parameters))})")
    show = Names(net, weight_template, aliases)
    key = _of_key(net, of)
    notes = tuple(notes)
    if of == "C" and not per_sample_mean:
        notes += (NOTE_SINGLE_SAMPLE,)
    defs = net.intermediate_definitions
    linear = _linear_names(net)
    claimed = sp.sympify(claimed)
    claimed_compact = claimed.xreplace(linear)
    true_compact = _truths(net, key, "compact")[parameter]
    true = _truths(net, key, "expanded")[parameter]
    base = claimed.xreplace(defs)
    everything = net.inputs + net.targets + net.parameters
    decision = decide(base, true, points=points, seed=seed, symbols=everything,
                      proof_forms=[(compress(net, base), true_compact)])
    shown_true = show(true_compact)
    if of == "C" and per_sample_mean:
        shown_true = f"(1/m)*sum_i({shown_true})"
    label = text or f"d{of}/d{show(parameter)} = {show(claimed_compact)}"
    verdict = Verdict(label, of, show(parameter), decision.equal, decision.method,
                      shown_true, notes=notes)
    if decision.equal:
        return verdict
    case = Case(net, of, key, parameter, claimed_compact, base, true_compact, true,
                random_points(everything, 4, seed + 1), show)
    verdict.diagnosis = diagnose(case)
    ce = decision.counterexample
    if ce is not None:
        verdict.counterexample = {"values": {show(s): json_number(v) for s, v in ce.values.items()},
                                  "claimed": json_number(ce.claimed), "true": json_number(ce.true)}
        named = type(ce)({sp.Symbol(show(s)): v for s, v in ce.values.items()}, ce.claimed,
                         ce.true, ce.others_free)
        verdict.counterexample_text = named.text() + (" (one sample, m = 1)"
                                                      if of == "C" else "")
    return verdict


def verify_claim(net, claim, **options) -> Verdict:
    """Verdict on a parsed :class:`symgrad.claims.parse.Claim`."""
    show = Names(net, options.get("weight_template", WEIGHT_TEMPLATE), options.get("aliases"))
    rhs = show(claim.rhs.xreplace(_linear_names(net)))
    if claim.per_sample_mean:
        rhs = f"(1/m)*sum_i({rhs})"
    label = f"d{claim.of_text}/d{show(claim.parameter)} = {rhs}"
    return verify_expression(net, claim.of, claim.parameter, claim.rhs,
                             per_sample_mean=claim.per_sample_mean, text=label,
                             notes=claim.notes, **options)


def verify(net, claims, aliases=None, *, weight_template: str = WEIGHT_TEMPLATE,
           errors: str = "raise", points: int = POINTS, seed: int = 0) -> list:
    """Check hand-derived derivatives against the exact ones.

    Parameters
    ----------
    net : Network
    claims : str or list of str
        Claims such as ``"dz21/dw111 = w211*x1"``, in plain, LaTeX or Unicode
        notation (see ``docs/claims.md``).
    aliases : dict, optional
        ``{name: expression text}``, e.g. ``{"z_b": "z21"}``.
    weight_template : str
        The user's weight naming, e.g. ``"w{l}{k}{j}"``.
    errors : {"raise", "report"}
        On an unreadable claim, raise :class:`~symgrad.errors.ParseError`, or
        return a verdict with ``correct=None`` and ``error`` set.
    points, seed : int
        Number of random points of the numeric test and their seed.

    Returns
    -------
    list of Verdict

    Examples
    --------
    >>> from symgrad import Network
    >>> [v] = verify(Network([2, 2, 1]), "dz21/dw111 = w211*x1")
    >>> v.correct, v.method
    (True, 'proved symbolically')
    """
    from symgrad.claims.parse import parse_claim

    if errors not in ("raise", "report"):
        raise SpecError(f"errors must be 'raise' or 'report', got {errors!r}")
    if isinstance(claims, str):
        claims = [claims]
    verdicts = []
    for text in claims:
        try:
            claim = parse_claim(text, net, aliases=aliases, weight_template=weight_template)
            verdicts.append(verify_claim(net, claim, weight_template=weight_template,
                                         aliases=aliases, points=points, seed=seed))
        except SymgradError as exc:
            if errors == "raise":
                raise
            verdicts.append(Verdict(str(text), error=str(exc)))
    return verdicts




__all__ = ["Verdict", "verify", "verify_claim", "verify_expression"]
