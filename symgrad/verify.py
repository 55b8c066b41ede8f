"""Verdicts on hand-derived derivatives: correct or wrong, why, and where it fails.

A claim such as ``dz21/dw111 = x1`` is an identity: it must hold for every input,
target and parameter.  :func:`verify` reads claims with :mod:`symgrad.parse` (the
only code that turns user text into SymPy), compares each right-hand side with the
exact derivative from :func:`symgrad.derive.gradients` using
:func:`symgrad.equivalence.decide`, and for a wrong claim adds the true
derivative in the user's names, a small-integer counterexample and a diagnosis
(:mod:`symgrad.diagnose`).

Claims about the cost ``C``: written as a per-sample mean
``(1/m) sum_i S_i`` they are checked summand by summand against ``dL/dparam``.
Written without the mean, ``C`` is read as the cost of one sample (m = 1), which
is the same as ``L``; the verdict carries a note saying so.

>>> import sympy as sp
>>> from symgrad import Network
>>> net = Network([2, 2, 1])
>>> w111, w211, x1 = (net.symbols[n] for n in ("w111", "w211", "x1"))
>>> v = verify_expression(net, "z21", w111, x1)
>>> print(v.to_text(ascii=True))
WRONG dz21/dw111 = x1
    true:           w211*x1
    diagnosis:      missing factor w211 (the chain rule through the output weight w211)  [missing-factor]
    counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from symgrad.derive import gradients
from symgrad.diagnose import (
    Diagnosis,
    coincidence_conditions,
    compress,
    diagnose,
    hidden_neuron,
    symmetry,
)
from symgrad.equivalence import (
    POINTS,
    decide,
    evaluate,
    json_number,
    random_points,
    same_value,
)
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
    """Everything the diagnosis needs about one claim (see :mod:`symgrad.diagnose`)."""

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

    def values(self, expr) -> list:
        """Values of ``expr`` at the case's points (memoised: diagnoses reuse them)."""
        memo = self.__dict__.setdefault("_memo", {})
        if expr not in memo:
            memo[expr] = [evaluate(expr, p) for p in self.points]
        return memo[expr]

    def agree(self, a, b) -> bool:
        """True when ``a`` and ``b`` agree at every point of the case."""
        return all(same_value(u, v) is True for u, v in zip(self.values(a), self.values(b)))

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
    linear = {net.a_symbol(l, j): net.z_symbol(l, j) for l in range(1, net.depth + 1)
              if net.activations[l - 1] == "linear" for j in range(1, net.widths[l] + 1)}
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
    label = text or f"d{of}/d{show(parameter)} = {show(claimed)}"
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
    """Verdict on a parsed :class:`symgrad.parse.Claim`."""
    return verify_expression(net, claim.of, claim.parameter, claim.rhs,
                             per_sample_mean=claim.per_sample_mean, text=claim.plain(),
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
    from symgrad.parse import parse_claim

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




@dataclass
class Comparison:
    """The outcome of :func:`compare`; fields match ``symgrad compare --json``."""

    first: str
    second: str
    equal: bool
    method: str
    first_value: str
    second_value: str
    difference: str | None = None
    conditions: list = field(default_factory=list)
    counterexample: dict | None = None
    symmetry: str | None = None
    counterexample_text: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"first": self.first, "second": self.second, "equal": self.equal,
                "method": self.method, "first_value": self.first_value,
                "second_value": self.second_value, "difference": self.difference,
                "conditions": list(self.conditions), "counterexample": self.counterexample,
                "symmetry": self.symmetry}

    def to_text(self, ascii: bool = False) -> str:
        width = max(len(self.first), len(self.second))
        lines = [f"{self.first:<{width}} = {self.first_value}",
                 f"{self.second:<{width}} = {self.second_value}"]
        if self.equal:
            lines.append(f"identically equal ({self.method})")
        else:
            lines.append("not identically equal")
            if self.counterexample_text:
                lines.append(f"    counterexample: {self.counterexample_text}")
            if self.difference is not None:
                lines.append(f"    difference:     {self.difference}")
            if self.conditions:
                lines.append("    equal exactly when " + ", or ".join(self.conditions))
        if self.symmetry:
            lines.append(self.symmetry)
        text = "\n".join(lines)
        return text.encode("ascii", "replace").decode() if ascii else text

    def __str__(self) -> str:
        return self.to_text()


def _side(net, item, show, parse_options):
    """``(label, compact, base, of_key, parameter)`` of one side of a comparison."""
    defs = net.intermediate_definitions
    if isinstance(item, tuple):
        of, p = item
        key = _of_key(net, of)
        compact = _truths(net, key, "compact")[p]
        return f"d{of}/d{show(p)}", compact, _truths(net, key, "expanded")[p], key, p
    if isinstance(item, str):
        from symgrad.parse import parse_derivative_or_expression

        item = parse_derivative_or_expression(item, net, **parse_options)
        if isinstance(item, tuple):
            return _side(net, item, show, parse_options)
    expr = sp.sympify(item)
    return show(expr), expr, expr.xreplace(defs), None, None


def compare(net, first, second, aliases=None, *, weight_template: str = WEIGHT_TEMPLATE,
            points: int = POINTS, seed: int = 0) -> Comparison:
    """Are two derivatives (or expressions) identically equal?  If not, when do they coincide?

    Each side is text (``"dL/dw111"`` or an expression, read by :mod:`symgrad.parse`),
    a pair ``(of, parameter)`` such as ``("L", w111)``, or a SymPy expression.
    When they differ, the result holds a counterexample and the conditions under
    which they coincide (from the factored difference).  For the gradients of two
    neurons of one hidden layer it also shows the symmetry: started identical,
    they get identical gradients and stay identical under gradient descent.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> c = compare(net, ("L", net.weight(1, 1, 1)), ("L", net.weight(1, 2, 1)))
    >>> c.equal, c.conditions
    (False, ['x1 = 0', 'w211 = w212', 'the prediction is exact (y = z21)'])
    """
    show = Names(net, weight_template, aliases)
    options = {"aliases": aliases, "weight_template": weight_template}
    label1, compact1, base1, key1, p1 = _side(net, first, show, options)
    label2, compact2, base2, key2, p2 = _side(net, second, show, options)
    everything = net.inputs + net.targets + net.parameters
    decision = decide(base1, base2, points=points, seed=seed, symbols=everything,
                      proof_forms=[(compact1, compact2)])
    result = Comparison(label1, label2, decision.equal, decision.method,
                        show(compact1), show(compact2))
    if not decision.equal:
        ce = decision.counterexample
        result.counterexample = {"values": {show(s): json_number(v) for s, v in ce.values.items()},
                                 "first": json_number(ce.claimed), "second": json_number(ce.true)}
        named = type(ce)({sp.Symbol(show(s)): v for s, v in ce.values.items()}, ce.claimed,
                         ce.true, ce.others_free)
        result.counterexample_text = named.text(labels=(label1, label2))
        factored, result.conditions = coincidence_conditions(net, base1 - base2, show)
        if factored is not None:
            result.difference = show(sp.Mul(*(compress(net, f)
                                              for f in sp.Mul.make_args(factored))))
    n1, n2 = (hidden_neuron(net, p) if p is not None else None for p in (p1, p2))
    if key1 is not None and key1 == key2 and n1 and n2 and n1[0] == n2[0] and n1 != n2:
        of = first[0] if isinstance(first, tuple) else label1[1:].split("/")[0]
        grads = _truths(net, key1, "expanded")
        result.symmetry = symmetry(net, grads, n1[0], n1[1], n2[1], of, show) or None
    return result


__all__ = ["Comparison", "Verdict", "compare", "verify", "verify_claim", "verify_expression"]
