"""Verdicts on hand-derived derivatives: correct, wrong or undecided, why, and where it fails.

A claim such as ``dz21/dw111 = x1`` is an identity: it must hold for every input,
target and parameter.  :func:`verify` reads claims with :mod:`symgrad.claims.parse` (the
only code that turns user text into SymPy), compares each right-hand side with the
exact derivative from :func:`symgrad.derive.gradients` using
:func:`symgrad.claims.equivalence.decide`, and for a wrong claim adds the true
derivative in the user's names, a small-integer counterexample and a diagnosis
(:mod:`symgrad.claims.diagnose`).

Each claim gets its own verdict whatever happens to another: with a ``timeout``
each one runs in a worker process under a :class:`symgrad.budget.Budget`, and a
claim whose work runs out of time or memory, or stops on an unexpected error, is
*undecided*, with what was known by then (``"equal at 12 random points; the
symbolic proof ran out of time (5 s)"``).

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
    true:           x1*w211
    diagnosis:      missing factor w211 (the chain rule through the output weight w211) ...
    counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2
    the right chain: symgrad derive 2-2-1 w111 --of output
"""

from __future__ import annotations

from contextlib import nullcontext
from copy import copy
from dataclasses import dataclass, field

import sympy as sp

from symgrad import budget
from symgrad.claims.case import (
    Case,
    Names,
    as_expression,
    check_aliases,
    check_network,
    claim_texts,
    linear_names,
    matrix_hint,
    natural_targets,
    of_key,
    truths,
)
from symgrad.claims.diagnose import Diagnosis, compress
from symgrad.claims.equivalence import DISPROVED, decide
from symgrad.claims.nodes import derivative_value, node_derivative, node_symbols
from symgrad.claims.points import POINTS
from symgrad.claims.proof.evidence import evidence_points, explained
from symgrad.claims.proof.report import json_counterexample
from symgrad.errors import BudgetExceeded, ParseError, SpecError, SpecTypeError, SymgradError
from symgrad.render.display import ReportList, RichDisplay, verdict_lines
from symgrad.spec import WEIGHT_TEMPLATE

#: Marks of the text report, and their ASCII fallbacks for terminals that lack them.
MARKS = {"correct": "\u2713", "wrong": "\u2717", "undecided": "?"}
ASCII_MARKS = {"correct": "OK", "wrong": "WRONG", "undecided": "UNDECIDED"}
NOTE_SINGLE_SAMPLE = ("{C} read as the cost of one sample (m = 1), i.e. as L; for a batch "
                      "write d{C}/dw = (1/m) sum_i ..., or claim dL/dw")  # {C}: the notation's
#: What an undecided verdict says when the work stopped (``{why}``: which limit ran out).
BEFORE_EVALUATION = "the work {why} before any evaluation finished"
PROOF_STOPPED = "equal at {n} random points; the symbolic proof {{why}}"
NO_DIAGNOSIS = "no diagnosis: the diagnosis {why}"


@dataclass
class Verdict(RichDisplay):
    """The verdict on one claim; fields match the ``--json`` output.

    ``status`` is ``"correct"``, ``"wrong"``, ``"undecided"`` (``correct`` is None
    and ``method`` says what is known, e.g. that the work ran out of time) or
    ``"unreadable"`` (``correct`` is None and ``error`` says why).  ``method``:
    ``"proved symbolically"``, ``"equal at N random points (not proved)"`` or
    ``"counterexample"``.  ``counterexample``:
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
    reason: str | None = None
    see: str | None = None

    @property
    def status(self) -> str:
        """``"correct"``, ``"wrong"``, ``"undecided"`` or ``"unreadable"``."""
        if self.error is not None:
            return "unreadable"
        return {True: "correct", False: "wrong", None: "undecided"}[self.correct]

    def to_dict(self) -> dict:
        """The JSON object of this verdict (``null`` where a field does not apply)."""
        return {"claim": self.claim, "status": self.status, "of": self.of,
                "parameter": self.parameter, "correct": self.correct, "method": self.method,
                "true": self.true,
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "counterexample": self.counterexample, "notes": list(self.notes),
                "error": self.error, "reason": self.reason, "see": self.see}

    def to_text(self, ascii: bool = False) -> str:
        """The report block: a mark and the claim, then labelled, aligned lines."""
        if self.error is not None:
            return f"{'!' if ascii else '?'} {self.claim}\n    error:          {self.error}"
        mark = (ASCII_MARKS if ascii else MARKS)[self.status]
        if self.correct:
            lines = [f"{mark} {self.claim}   ({self.method})"]
        elif self.correct is None:
            lines = [f"{mark} {self.claim}", f"    undecided:      {self.method}"]
            if self.true is not None:
                lines.append(f"    true:           {self.true}")
        else:
            lines = [f"{mark} {self.claim}", f"    true:           {self.true}"]
            if self.diagnosis:
                d = self.diagnosis
                lines.append(f"    diagnosis:      {d.detail}  [{d.kind}]")
            if self.reason:
                lines.append(f"    why the sign:   {self.reason}")
            if self.counterexample_text:
                lines.append(f"    counterexample: {self.counterexample_text}")
        lines += [f"    note:           {n}" for n in self.notes]
        if self.see and self.correct is False:
            lines.append(f"    the right chain: {self.see}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _display_lines(self) -> list:  # Jupyter's rich display (symgrad.render.display)
        return verdict_lines(self)


def verify_expression(net, of: str, parameter, claimed, *, per_sample_mean: bool = False,
                      text: str | None = None, notes=(), weight_template: str = WEIGHT_TEMPLATE,
                      aliases=None, points: int = POINTS, seed: int = 0,
                      chain=None, notation=None, output_name: str | None = None) -> Verdict:
    """Verdict on ``d(of)/d(parameter) = claimed``.

    ``claimed`` is a SymPy expression, or text read by the claim parser (never
    evaluated as Python).  It may use the network's intermediate names (``z11``,
    ``a21``); they stand for their definitions.  ``parameter`` is a symbol or its
    name, node or input.  ``chain`` is the right side with its derivative symbols
    (:attr:`Claim.chain`), for the chain-rule diagnoses.  ``notation`` (a preset name,
    :mod:`symgrad.claims.notation`) reads ``claimed`` and shows the answer in that
    course's names; ``output_name`` (``"y'"``, ``"ŷ"``) shows the output as the claim
    wrote it.  This is the engine behind :func:`verify`, for callers that build
    expressions themselves.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> w211, z11 = net.symbols["w211"], net.symbols["z11"]
    >>> verify_expression(net, "z21", w211, z11).method
    'proved symbolically'
    >>> verify_expression(net, "z21", "w211", "z_{11}").correct
    True
    """
    check_network(net)
    if isinstance(parameter, str):
        parameter = net.symbols.get(parameter, parameter)
    if not isinstance(parameter, sp.Symbol) or not (parameter in net.parameters
                                                    or parameter in node_symbols(net)):
        raise SpecError(f"{parameter} is not a parameter, node or input of the "
                        f"{net.spec.arch} network (parameters: "
                        f"{', '.join(map(str, net.parameters))})")
    key = of_key(net, of)
    claimed = as_expression(claimed, net, aliases=aliases, weight_template=weight_template,
                            notation=notation)
    show = Names(net, weight_template, aliases, notation, output_name)
    notes = tuple(notes)
    if of == "C" and not per_sample_mean:
        notes += (NOTE_SINGLE_SAMPLE.format(C=show.notation.cost),)
    claimed_compact = claimed.xreplace(linear_names(net))
    if parameter in net.parameters:
        true_compact = truths(net, key, "compact")[parameter]
        true = truths(net, key, "expanded")[parameter]
    else:                         # by a node or an input: backprop's cut derivative
        true = derivative_value(net, key, parameter).xreplace(net.intermediate_definitions)
        true_compact = node_derivative(net, key, parameter).xreplace(linear_names(net))
    budget.restart_clock()        # the network's derivatives exist: the decision starts
    base = claimed.xreplace(net.intermediate_definitions)
    everything = net.inputs + net.targets + net.parameters
    shown_true = show(true_compact)
    named = sorted((s for s in true_compact.free_symbols if s.name.startswith("delta")),
                   key=lambda s: s.name)
    if named:
        which = ", ".join(s.name for s in named)
        notes += (f"{which}: backprop's delta d{of}/dz of that neuron, too long to write "
                  f"out here; `symgrad table {net.spec.arch} --of "
                  f"{'output' if key == 'output' else 'loss'}` (with the same network "
                  "options) lists its recursion",)
    if of == "C" and per_sample_mean:
        shown_true = f"(1/m)*sum_i({shown_true})"
    label = text or f"d{of}/d{show(parameter)} = {show(claimed_compact)}"

    def verdict(correct=None, method=None) -> Verdict:
        return Verdict(label, of, show(parameter), correct, method, shown_true, notes=notes)

    def progress(stage, info) -> None:
        if stage == "agree":
            budget.report((verdict(), PROOF_STOPPED.format(n=info)))
        else:
            budget.report((_with_counterexample(verdict(False, DISPROVED), info, show, of),
                           NO_DIAGNOSIS))

    budget.report((verdict(), BEFORE_EVALUATION))
    decision = decide(base, true, points=points, seed=seed, symbols=everything,
                      proof_forms=[(compress(net, base), true_compact)], progress=progress,
                      prefer=natural_targets(net))
    result = verdict(decision.equal, decision.method)
    if decision.note:
        result.notes = (*result.notes, decision.note)
    if decision.equal is not False:
        return result
    result = _with_counterexample(result, decision.counterexample, show, of)
    budget.report((copy(result), NO_DIAGNOSIS))     # a copy: the diagnosis comes next
    where, guard = evidence_points(net, everything, base, true, seed + 1)
    case = Case(net, of, key, parameter, claimed_compact, base, true_compact, true,
                where, show, chain, guard)
    result.diagnosis, result.reason, result.see, better = explained(
        case, decision.counterexample, weight_template, output_name)
    return _with_counterexample(result, better, show, of) if better else result


def _with_counterexample(verdict: Verdict, ce, show, of) -> Verdict:
    if ce is not None:
        verdict.counterexample = json_counterexample(
            {show(s): v for s, v in ce.values.items()}, {"claimed": ce.claimed, "true": ce.true})
        named = type(ce)({sp.Symbol(show(s)): v for s, v in ce.values.items()}, ce.claimed,
                         ce.true, ce.others_free)
        verdict.counterexample_text = named.text() + (" (one sample, m = 1)"
                                                      if of == "C" else "")
    return verdict


def verify_claim(net, claim, **options) -> Verdict:
    """Verdict on a parsed :class:`symgrad.claims.parse.Claim`."""
    show = Names(net, options.get("weight_template", WEIGHT_TEMPLATE), options.get("aliases"),
                 options.get("notation"), claim.output_name)
    rhs = claim.written or show(claim.rhs.xreplace(linear_names(net)))
    if claim.per_sample_mean and not claim.written:   # as written, it shows its own mean
        rhs = f"(1/m)*sum_i({rhs})"
    label = f"d{claim.of_text}/d{show(claim.parameter)} = {rhs}"
    return verify_expression(net, claim.of, claim.parameter, claim.rhs,
                             per_sample_mean=claim.per_sample_mean, text=label,
                             notes=claim.notes, chain=claim.chain,
                             output_name=claim.output_name, **options)


def _claim_task(spec, text: str, options: dict) -> Verdict:
    """Read and decide one claim (in a worker: the network is rebuilt from ``spec``)."""
    from symgrad.claims.parse import parse_claim

    net = budget.network_for(spec)
    claim = parse_claim(text, net, aliases=options["aliases"],
                        weight_template=options["weight_template"],
                        notation=options.get("notation"))
    return verify_claim(net, claim, **options)


def stopped(text: str, snapshot, why: str) -> Verdict:
    """The verdict on a claim whose work stopped (``why``): what its last report knew."""
    if snapshot is None:
        return Verdict(str(text), method=BEFORE_EVALUATION.format(why=why))
    verdict, template = snapshot
    if verdict.correct is None:
        verdict.method = template.format(why=why)
    else:
        verdict.notes = (*verdict.notes, template.format(why=why))
    return verdict


def check_claim(net, text: str, *, aliases=None, weight_template: str = WEIGHT_TEMPLATE,
                points: int = POINTS, seed: int = 0, pool: budget.Pool | None = None,
                notation=None, task=None, **task_options) -> Verdict:
    """Verdict on one claim given as text, in ``pool``'s worker or in this process.

    Raises :class:`~symgrad.errors.SymgradError` only when the claim cannot be read;
    a budget that runs out, or any other error while deciding, gives an undecided
    verdict (or a wrong one without a diagnosis, when the claim was already refuted).
    ``task(spec, text, options)`` reads and decides the claim (default: a scalar
    claim); ``task_options`` are added to its options.
    """
    options = {"aliases": aliases, "weight_template": weight_template, "points": points,
               "seed": seed, "notation": notation, **task_options}
    task = task or _claim_task
    last: list = [None]

    def keep(snapshot) -> None:
        last[0] = snapshot

    budget.remember(net)
    try:
        if pool is None:
            return budget.run_here(task, net.spec, text, options, on_progress=keep)
        return pool.run(task, net.spec, text, options, on_progress=keep)
    except BudgetExceeded as exc:
        why = str(exc)
    except SymgradError:
        raise
    except Exception as exc:      # noqa: BLE001 - one claim's failure is not the batch's
        why = f"stopped on an unexpected error ({type(exc).__name__}: {exc})"
    return stopped(text, last[0], why)


def verify(net, claims, aliases=None, *, weight_template: str = WEIGHT_TEMPLATE,
           errors: str = "raise", points: int = POINTS, seed: int = 0,
           timeout: float | None = None, notation=None) -> list:
    """Check hand-derived derivatives against the exact ones.

    Parameters
    ----------
    net : Network
    claims : str or list of str
        Claims such as ``"dz21/dw111 = w211*x1"``, in plain, LaTeX or Unicode
        notation (see ``docs/claims.md``); a claim about a whole layer is
        refused with a pointer to :func:`symgrad.verify_matrix`, which checks it.
    aliases : dict, optional
        ``{name: expression text}``, e.g. ``{"z_b": "z21"}``.
    weight_template : str
        The user's weight naming, e.g. ``"w{l}{k}{j}"``.
    notation : str, optional
        A course's notation (``"nielsen"``, ``"ng"``, ``"goodfellow"``; see
        ``docs/claims.md#notation-presets``): claims are read in it and answers shown in it.
    errors : {"raise", "report"}
        On an unreadable claim, raise :class:`~symgrad.errors.ParseError`, or
        return a verdict with ``correct=None`` and ``error`` set.
    points, seed : int
        Number of random points of the numeric test and their seed.
    timeout : float, optional
        Seconds for each claim, which then runs in a worker process with the
        default memory limit (see ``docs/limits.md``); a claim that runs out is
        ``undecided``.  None (default): in this process, without limits.

    Returns
    -------
    list of Verdict
        (a list that Jupyter displays as the verdicts, math typeset)

    Examples
    --------
    >>> from symgrad import Network
    >>> [v] = verify(Network([2, 2, 1]), "dz21/dw111 = w211*x1")
    >>> v.correct, v.method, v.status
    (True, 'proved symbolically', 'correct')
    """
    aliases = check_aliases(aliases)
    return check_all(net, claims, errors, timeout, aliases=aliases,
                     weight_template=weight_template, points=points, seed=seed,
                     notation=notation)


def check_all(net, claims, errors: str, timeout: float | None, **options) -> list:
    """:func:`check_claim` on each of ``claims`` (``options`` are its keywords), each in a
    worker under ``timeout`` when one is given; an unreadable claim raises, or with
    ``errors="report"`` gets a verdict whose ``error`` says why."""
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
                verdicts.append(check_claim(net, text, pool=pool, **options))
            except SymgradError as exc:
                if options.get("task") is None and isinstance(exc, ParseError):
                    exc = matrix_hint(net, text, exc)
                if errors == "raise":
                    raise exc from None
                verdicts.append(Verdict(str(text), error=str(exc)))
    return ReportList(verdicts)


__all__ = ["Verdict", "check_all", "check_claim", "verify", "verify_claim", "verify_expression"]
