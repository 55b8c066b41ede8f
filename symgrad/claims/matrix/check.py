r"""Verdicts on matrix claims: every entry decided as a scalar claim is, one diagnosis.

``dL/dW2 = delta2 a1^T`` is expanded to its entries (``dL/dw2jk = delta2j a1k``);
each entry is decided against the exact derivative with
:func:`symgrad.claims.equivalence.decide`, the decision behind scalar claims.  A
wrong claim lists its wrong entries, gives the counterexample of the first one,
and a diagnosis found by trying single repairs of the written expression
(:mod:`symgrad.claims.matrix.repairs`).  A batch claim (``layout="columns"`` or
``"rows"``) is decided on symbolic batches of m = 2 and m = 3 samples.

>>> from symgrad import Network
>>> net = Network([2, 3, 1], activation="tanh")
>>> [v] = verify_matrix(net, "delta1 = W2 delta2 ⊙ f'(z1)", errors="report")
>>> v.error
'W2 (1×3) times delta2 (1×1) is undefined; did you mean W2^T delta2?'
>>> [v] = verify_matrix(net, "dL/dW2 = delta2 a1^T")
>>> v.correct, v.method
(True, 'proved symbolically (each of 3 entries)')
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad import budget
from symgrad.claims.case import Names, natural_targets
from symgrad.claims.diagnose import Diagnosis
from symgrad.claims.equivalence import DISPROVED, PROVED, Decision, decide, numeric_method
from symgrad.claims.lexer import fail
from symgrad.claims.matrix.algebra import shape_text, value
from symgrad.claims.matrix.equations import formula
from symgrad.claims.matrix.layers import BATCH_SIZES, LAYOUTS, Layers
from symgrad.claims.matrix.repairs import diagnose_matrix, transposed
from symgrad.claims.matrix.sides import entry_label, looks_matrix, parse_matrix_claim
from symgrad.claims.points import POINTS
from symgrad.claims.proof.evidence import ON_KINK
from symgrad.claims.proof.report import json_counterexample
from symgrad.claims.verify import Verdict, check_all, check_claim
from symgrad.errors import SpecError
from symgrad.spec import WEIGHT_TEMPLATE

__all__ = ["MatrixVerdict", "check_matrix_claim", "looks_matrix", "verify_matrix"]


@dataclass
class MatrixVerdict(Verdict):
    """A :class:`~symgrad.claims.verify.Verdict` with the wrong entries of a matrix claim.

    ``wrong_entries`` names each wrong entry as the scalar derivative it is
    (``"dL/dw213"``); ``entries`` is how many entries were decided.
    """

    wrong_entries: tuple = ()
    entries: int = 0

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(entries=self.entries, wrong_entries=list(self.wrong_entries))
        return out

    def to_text(self, ascii: bool = False) -> str:
        lines = super().to_text(ascii).split("\n")
        if self.wrong_entries:
            at = next((i for i, t in enumerate(lines) if t.startswith("    note:")), len(lines))
            shown = ", ".join(self.wrong_entries[:6]) + (", ..." if len(self.wrong_entries) > 6
                                                         else "")
            lines.insert(at, f"    wrong entries:  {shown} ({len(self.wrong_entries)} of "
                             f"{self.entries})")
        return "\n".join(lines)


class _Differs(Exception):
    """Stops :func:`decide` at a random point where the sides differ (no search for a
    small-integer counterexample: only the first wrong entry gets one)."""


def _stop(stage, info) -> None:
    if stage == "differ":
        raise _Differs(info)


def _decide_entries(layers, claimed, true, points, seed):
    """``[(index, Decision)]`` for every entry (compact forms first for the proof)."""
    defs = layers.definitions
    prefer = natural_targets(layers.net) if not layers.batch else None
    out: list = []
    for index in range(len(true)):
        c, t = claimed[index], true[index]
        pair = dict(claimed=c.xreplace(defs), true=t.xreplace(defs), points=points, seed=seed,
                    symbols=layers.symbols, proof_forms=[(c, t)], prefer=prefer)
        first = not any(d.equal is False for _, d in out)
        try:
            out.append((index, decide(**pair, progress=None if first else _stop)))
        except _Differs as stopped:
            out.append((index, Decision(False, True, DISPROVED, stopped.args[0])))
    return out


def _verdict(layers, claim, claimed, true, show, points, seed) -> MatrixVerdict:
    t = claim.target
    rows, cols = true.shape
    label = f"{claim.target.text} = {claim.rhs.text()}"
    shown = formula(layers.net, t.kind, t.layer, layers.layout)
    verdict = MatrixVerdict(label, claim.of, t.text, true=shown, notes=claim.notes,
                            entries=rows * cols)
    if claimed.shape != true.shape:            # the transpose of the gradient
        verdict.correct, verdict.method = False, DISPROVED
        verdict.diagnosis = transposed(layers, claim, claimed, true)
        return verdict
    decisions = _decide_entries(layers, claimed, true, points, seed)
    wrong = [(i, d) for i, d in decisions if d.equal is False]
    if not wrong:
        open_ = [d for _, d in decisions if d.equal is None]
        if open_:
            verdict.method = open_[0].method
            return verdict
        proved = all(d.proved for _, d in decisions)
        verdict.correct = True
        verdict.method = (f"{PROVED if proved else numeric_method(points)} "
                          f"(each of {len(decisions)} entries)")
        return verdict
    verdict.correct, verdict.method = False, DISPROVED
    verdict.wrong_entries = tuple(entry_label(layers, claim, i // cols, i % cols, show.template)
                                  for i, _ in wrong)
    ce = wrong[0][1].counterexample
    if ce is not None:
        verdict.counterexample = {"entry": verdict.wrong_entries[0], **json_counterexample(
            {show(s): v for s, v in ce.values.items()}, {"claimed": ce.claimed, "true": ce.true})}
        named = type(ce)({sp.Symbol(show(s)): v for s, v in ce.values.items()}, ce.claimed,
                         ce.true, ce.others_free)
        verdict.counterexample_text = f"{verdict.wrong_entries[0]} at {named.text()}"
    if ce is not None and ce.on_kink:      # a convention differs, not the derivative
        verdict.notes += tuple(d.note for _, d in wrong[:1] if d.note)
        verdict.diagnosis = Diagnosis("other", ON_KINK)
        return verdict
    budget.report((verdict, "no diagnosis: the diagnosis {why}"))
    verdict.diagnosis = diagnose_matrix(layers, claim, claimed, true, [i for i, _ in wrong],
                                        show)
    return verdict


class _Show(Names):
    """Display names, with the weight template kept for the entry labels."""

    def __init__(self, net, template):
        super().__init__(net, template)
        self.template = template


def decide_matrix(net, text: str, *, layout: str = "sample",
                  weight_template: str = WEIGHT_TEMPLATE, points: int = POINTS,
                  seed: int = 0) -> MatrixVerdict:
    """Read and decide one matrix claim in this process (no budget; see :func:`verify_matrix`)."""
    if layout not in LAYOUTS:
        raise SpecError(f"unknown layout {layout!r} (choices: {', '.join(LAYOUTS)})")
    sizes = BATCH_SIZES if layout != "sample" else (1,)
    read = []
    for m in sizes:                     # read every size first: an input error comes first
        layers = Layers(net, layout, m)
        claim = parse_matrix_claim(text, layers, weight_template)
        read.append((layers, claim, _sides(layers, claim)))
    show = _Show(net, weight_template)
    verdict = None
    for layers, claim, (claimed, true) in read:
        budget.restart_clock()
        verdict = _verdict(layers, claim, claimed, true, show, points, seed)
        if layers.batch:
            verdict.notes += (f"decided on a symbolic batch of m = {layers.m} samples"
                              + (" (and m = 2)" if layers.m == 3 else ""),)
        if verdict.correct is not True:
            break
    assert verdict is not None
    if verdict.correct and len(read) > 1:
        verdict.notes = verdict.notes[:-1] + ("decided on symbolic batches of m = 2 and m = 3 "
                                              "samples",)
    return verdict


def _sides(layers, claim):
    """``(claimed, true)`` matrices in intermediate names; ParseError on a shape misfit."""
    rhs = value(claim.rhs, layers)
    true = layers.entries(claim.target)
    claimed = rhs.expr
    if rhs.shape is None:
        if true.shape != (1, 1):
            raise fail(f"the right side {claim.rhs.text()} is a scalar, but {claim.target.text} "
                       f"is {shape_text(true.shape)}")
        claimed = sp.ImmutableMatrix([[claimed]])
    elif rhs.shape != true.shape and rhs.shape != true.shape[::-1]:
        raise fail(f"{claim.target.text} is {shape_text(true.shape)} but the right side "
                   f"{claim.rhs.text()} is {shape_text(rhs.shape)}")
    return claimed, true


def _matrix_task(spec, text: str, options: dict) -> MatrixVerdict:
    """Read and decide one matrix claim (in a worker: the network is rebuilt from ``spec``)."""
    return decide_matrix(budget.network_for(spec), text, layout=options["layout"],
                         weight_template=options["weight_template"], points=options["points"],
                         seed=options["seed"])


def check_matrix_claim(net, text: str, *, layout: str = "sample", pool=None, **options):
    """:func:`symgrad.claims.verify.check_claim` for a matrix claim (same budget rules)."""
    return check_claim(net, text, task=_matrix_task, layout=layout, pool=pool, **options)


def verify_matrix(net, claims, *, layout: str = "sample", weight_template: str = WEIGHT_TEMPLATE,
                  errors: str = "raise", points: int = POINTS, seed: int = 0,
                  timeout: float | None = None) -> list:
    """Check backprop written per layer: ``dL/dW2 = delta2 a1^T``, ``delta1 = ...``.

    Parameters
    ----------
    net : Network
    claims : str or list of str
        Matrix claims (see ``docs/matrix.md``): a left side such as ``dL/dW2``,
        ``dL/db1``, ``dL/dz1``, ``delta1``, ``dL/da1``, ``\\frac{\\partial L}{\\partial
        W^{(2)}}`` (for a batch ``dW1``, ``db1``, ``dZ1``, ``dA1``), a right side in the
        layer names with ``@``/juxtaposition, ``^T``, ``⊙``, ``*``, ``f'(z1)``.
    layout : {"sample", "columns", "rows"}
        One sample (column vectors), or a batch with samples as columns or rows.
    weight_template, errors, points, seed, timeout
        As for :func:`symgrad.verify`.

    Returns
    -------
    list of MatrixVerdict
        ``wrong_entries`` lists the wrong entries; the counterexample names its entry.
    """
    return check_all(net, claims, errors, timeout, task=_matrix_task, layout=layout,
                     weight_template=weight_template, points=points, seed=seed)
