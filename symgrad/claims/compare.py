"""Comparing two derivatives: equal or not, when they coincide, and why neurons tie.

``symgrad compare 2-2-1 dL/dw111 dL/dw121`` asks whether two derivatives (or
expressions) are identically equal.  When they are not, :func:`compare` gives a
counterexample and the conditions under which they coincide, read off the
factored difference (for the seed network: ``x1 = 0``, ``w211 = w212``, or an
exact prediction).  For two neurons of one hidden layer it also shows the
symmetry behind the seed question's intuition: neurons that start with identical
weights get identical gradients, so gradient descent keeps them identical, and
only random initialisation breaks the tie.

With a ``timeout`` the comparison runs in a worker process under a
:class:`symgrad.budget.Budget`; when the budget runs out (or the work stops on an
unexpected error) the result is *undecided* (``equal`` is None) and says what was
known by then.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field

import sympy as sp

from symgrad import budget
from symgrad.claims.case import (
    Names,
    as_expression,
    check_aliases,
    check_network,
    natural_targets,
    of_key,
    truths,
)
from symgrad.claims.diagnose import compress
from symgrad.claims.equivalence import MAX_OPS, agree, decide, prove_equal, small_enough
from symgrad.claims.notation.answer import weights_answer
from symgrad.claims.points import POINTS, random_points
from symgrad.claims.proof.report import json_counterexample
from symgrad.errors import BudgetExceeded, SpecError, SpecTypeError, SymgradError
from symgrad.render.display import RichDisplay, comparison_lines
from symgrad.spec import WEIGHT_TEMPLATE

#: What an undecided comparison says when the work stopped (``{why}``: which limit).
BEFORE_EVALUATION = "the work {why} before any evaluation finished"
NO_CONDITIONS = "no conditions: factoring the difference {why}"
NO_SYMMETRY = "no symmetry: the proof that tied neurons stay tied {why}"

__all__ = ["Comparison", "coincidence_conditions", "compare", "symmetry"]


def _condition(net, f, show) -> str:
    """``f = 0`` said in the user's terms: ``w211 = w212``, ``x1 = 0``, exact prediction."""
    if f.is_Symbol:
        return f"{show(f)} = 0"
    if net.spec.n_outputs == 1:
        error = net.targets[0] - net.output
        if sp.expand(f - error) == 0 or sp.expand(f + error) == 0:
            out = compress(net, net.output)
            return f"the prediction is exact (y = {show(out)})"
    for l in range(1, net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            z = net.z(l, j)
            if sp.expand(f - z) == 0 or sp.expand(f + z) == 0:
                return f"{show(net.z_symbol(l, j))} = 0"
    f = compress(net, f)
    terms = sp.Add.make_args(f)
    plus = [t for t in terms if t.as_coeff_Mul()[0] > 0]
    minus = [-t for t in terms if t.as_coeff_Mul()[0] < 0]
    if plus and minus:
        return f"{show(sp.Add(*plus))} = {show(sp.Add(*minus))}"
    return f"{show(f)} = 0"


def _name_factor(net, f):
    """A factor in intermediate names; the expanded output error becomes ``z21 - y``."""
    base = f.base if f.is_Pow else f
    if net.spec.n_outputs == 1 and base.is_Add:
        error = compress(net, net.output) - net.targets[0]
        expanded = sp.expand(net.output - net.targets[0])
        for sign in (1, -1):
            if sp.expand(base - sign * expanded) == 0:
                named = sign * error
                return named ** f.exp if f.is_Pow else named
    return compress(net, f)


def coincidence_conditions(net, difference, show=str):
    """When is ``difference`` zero?  Returns ``(factored, [condition, ...])``.

    ``difference`` is in base symbols.  It is factored (only when small enough)
    and each factor of the numerator gives one condition; the difference is zero
    exactly when at least one holds.  ``factored`` is None when the difference
    was too large to factor.

    >>> from symgrad import Network
    >>> from symgrad.derive import gradients
    >>> net = Network([2, 2, 1])
    >>> g = gradients(net, "loss")
    >>> _, conds = coincidence_conditions(net, g[net.weight(1, 1, 1)] - g[net.weight(1, 2, 1)])
    >>> conds
    ['x1 = 0', 'w211 = w212', 'the prediction is exact (y = z21)']
    """
    if not small_enough(difference, MAX_OPS):
        return None, []
    try:
        factored = sp.factor(difference)
        numerator = sp.fraction(sp.together(factored))[0]
        _, factors = sp.factor_list(numerator)
    except (sp.PolynomialError, ValueError, TypeError, RecursionError):
        return None, []
    factors = sorted((f for f, _ in factors if not f.is_number), key=sp.count_ops)
    return factored, [_condition(net, f, show) for f in factors]


def hidden_neuron(net, p):
    """``(l, j)`` of the hidden neuron that parameter ``p`` feeds, or None."""
    node = net.neuron_of(p)
    return node if node is not None and node[0] < net.depth else None


def symmetry(net, grads, l, j, jj, of="L", show=str) -> str:
    """Show that neurons ``(l, j)`` and ``(l, jj)`` stay tied once their weights are equal.

    Ties every incoming weight (and bias) and every outgoing weight of neuron
    ``jj`` to neuron ``j``'s, then proves each pair of their gradients equal.
    ``grads`` is ``{parameter: derivative}`` in base symbols.
    """
    tie, pairs = {}, []
    W = net.widths
    for k in range(1, W[l - 1] + 1):
        tie[net.weight(l, jj, k)] = net.weight(l, j, k)
        pairs.append((net.weight(l, j, k), net.weight(l, jj, k)))
    if net.bias:
        b = {idx: s for idx, s in zip(net.spec.bias_index(), net.biases)}
        tie[b[l, jj]] = b[l, j]
        pairs.append((b[l, j], b[l, jj]))
    for i in range(1, W[l + 1] + 1):
        tie[net.weight(l + 1, i, jj)] = net.weight(l + 1, i, j)
        pairs.append((net.weight(l + 1, i, j), net.weight(l + 1, i, jj)))
    tied = [(grads[p].xreplace(tie), grads[q].xreplace(tie)) for p, q in pairs]
    proved = all(prove_equal(a, b) for a, b in tied)
    symbols = set().union(*(a.free_symbols | b.free_symbols for a, b in tied))
    if not proved and not all(agree(a, b, random_points(symbols, 12)) for a, b in tied):
        return ""
    how = "proved symbolically" if proved else "at 12 random points, not proved"
    ties = ", ".join(f"{show(q)}={show(p)}" for q, p in tie.items())
    equal = ", ".join(f"d{of}/d{show(p)} = d{of}/d{show(q)}" for p, q in pairs)
    return (f"symmetry: if neurons {l}{j} and {l}{jj} start identical ({ties}), then {equal} "
            f"for every input and target ({how}). Every gradient-descent step then changes "
            "both neurons by the same amount, so they stay identical and the layer acts like "
            "fewer neurons; random initialisation breaks the tie. Equal weights make equal "
            "gradients, not the other way round.")


@dataclass
class Comparison(RichDisplay):
    """The outcome of :func:`compare`; fields match ``symgrad compare --json``.

    ``equal`` is None when undecided; ``status`` is then ``"undecided"`` and
    ``method`` says what is known.
    """

    first: str
    second: str
    equal: bool | None
    method: str
    first_value: str | None
    second_value: str | None
    difference: str | None = None
    conditions: list = field(default_factory=list)
    counterexample: dict | None = None
    symmetry: str | None = None
    notes: tuple = ()
    counterexample_text: str | None = field(default=None, repr=False)
    answer: list = field(default_factory=list)

    @property
    def status(self) -> str:
        """``"equal"``, ``"different"`` or ``"undecided"``."""
        return {True: "equal", False: "different", None: "undecided"}[self.equal]

    def to_dict(self) -> dict:
        return {"first": self.first, "second": self.second, "status": self.status,
                "equal": self.equal, "method": self.method, "first_value": self.first_value,
                "second_value": self.second_value, "difference": self.difference,
                "conditions": list(self.conditions), "counterexample": self.counterexample,
                "symmetry": self.symmetry, "notes": list(self.notes),
                "answer": list(self.answer)}

    def to_text(self, ascii: bool = False) -> str:
        width = max(len(self.first), len(self.second))
        lines = [f"{label:<{width}} = {value}" for label, value in
                 ((self.first, self.first_value), (self.second, self.second_value))
                 if value is not None]
        if self.equal:
            lines.append(f"identically equal ({self.method})")
        elif self.equal is None:
            lines.append(f"undecided: {self.method}")
        else:
            lines.append("not identically equal")
            if self.counterexample_text:
                lines.append(f"    counterexample: {self.counterexample_text}")
            if self.difference is not None:
                lines.append(f"    difference:     {self.difference}")
            if self.conditions:
                lines.append("    equal exactly when " + ", or ".join(self.conditions))
        lines += [f"    {line}" for line in self.answer]
        if self.symmetry:
            lines.append(self.symmetry)
        lines += [f"    note:           {n}" for n in self.notes]
        text = "\n".join(lines)
        return text.encode("ascii", "replace").decode() if ascii else text

    def __str__(self) -> str:
        return self.to_text()

    def _display_lines(self) -> list:  # Jupyter's rich display (symgrad.render.display)
        return comparison_lines(self)


def _side(net, item, show, parse_options):
    """``(label, compact, base, of_key, parameter)`` of one side of a comparison."""
    defs = net.intermediate_definitions
    if isinstance(item, tuple):
        of, p = item
        key = of_key(net, of)
        compact = truths(net, key, "compact")[p]
        return f"d{of}/d{show(p)}", compact, truths(net, key, "expanded")[p], key, p
    if isinstance(item, str):
        from symgrad.claims.parse import Partial, parse_quantity

        item = parse_quantity(item, net, **parse_options)
        if isinstance(item, Partial):
            label, *rest = _side(net, (item.of, item.parameter), show, parse_options)
            return (f"d{item.of_text}/d{show(item.parameter)}", *rest)
    expr = as_expression(item, net)
    return show(expr), expr, expr.xreplace(defs), None, None


def _check_side(net, item, which: str):
    """The side as given, checked: text, ``(of, parameter)`` or a SymPy expression."""
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[0], str):
            raise SpecTypeError(f"the {which} side as a pair must be (of, parameter), e.g. "
                                f"('L', w111); got {item!r}")
        of, p = item
        if isinstance(p, str):
            p = net.symbols.get(p, p)
        if p not in net.parameters:
            raise SpecError(f"{p} is not a parameter of the {net.spec.arch} network")
        of_key(net, of)
        return of, p
    if not isinstance(item, (str, sp.Expr, int, float)) or isinstance(item, bool):
        raise SpecTypeError(f"the {which} side must be text such as 'dL/dw111', a pair "
                            f"(of, parameter) or a SymPy expression, got {type(item).__name__}")
    return item


def compare(net, first, second, aliases=None, *, weight_template: str = WEIGHT_TEMPLATE,
            points: int = POINTS, seed: int = 0, timeout: float | None = None,
            pool: budget.Pool | None = None, notation=None) -> Comparison:
    """Are two derivatives (or expressions) identically equal?  If not, when do they coincide?

    Each side is text (``"dL/dw111"`` or an expression, read by :mod:`symgrad.claims.parse`),
    a pair ``(of, parameter)`` such as ``("L", w111)``, or a SymPy expression.
    When they differ, the result holds a counterexample and the conditions under
    which they coincide (from the factored difference).  For the gradients of two
    neurons of one hidden layer it also shows the symmetry: started identical,
    they get identical gradients and stay identical under gradient descent.

    ``timeout`` (seconds) runs the comparison in a worker process with the default
    memory limit (``docs/limits.md``), or in ``pool``'s worker under its budget;
    when it runs out the result is undecided.  Without either it runs here,
    without limits.  Text that cannot be read raises
    :class:`~symgrad.errors.ParseError`.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> c = compare(net, ("L", net.weight(1, 1, 1)), ("L", net.weight(1, 2, 1)))
    >>> c.equal, c.conditions
    (False, ['x1 = 0', 'w211 = w212', 'the prediction is exact (y = z21)'])
    """
    check_network(net)
    first, second = _check_side(net, first, "first"), _check_side(net, second, "second")
    options = {"aliases": check_aliases(aliases), "weight_template": weight_template,
               "points": points, "seed": seed, "notation": notation}
    budget.remember(net)
    last: list = [None]

    def keep(snapshot) -> None:
        last[0] = snapshot

    label1, label2 = (side if isinstance(side, str) else "" for side in (first, second))
    limits = budget.Budget(seconds=timeout) if timeout is not None else None
    try:
        if pool is None and limits is None:
            return budget.run_here(_compare_task, net.spec, first, second, options,
                                   on_progress=keep)
        if pool is None:
            return budget.run(_compare_task, net.spec, first, second, options,
                              budget=limits, on_progress=keep)
        return pool.run(_compare_task, net.spec, first, second, options, on_progress=keep)
    except BudgetExceeded as exc:
        why = str(exc)
    except SymgradError:
        raise
    except Exception as exc:      # noqa: BLE001 - reported as undecided, with the reason
        why = f"stopped on an unexpected error ({type(exc).__name__}: {exc})"
    if last[0] is None:
        return Comparison(label1, label2, None, BEFORE_EVALUATION.format(why=why), None, None)
    result, template = last[0]
    if result.equal is None:
        result.method = template.format(why=why)
    else:
        result.notes = (*result.notes, template.format(why=why))
    return result


def _compare_task(spec, first, second, options) -> Comparison:
    """The comparison itself (in a worker: the network is rebuilt from ``spec``)."""
    net = budget.network_for(spec)
    aliases, weight_template = options["aliases"], options["weight_template"]
    notation = options.get("notation")
    show = Names(net, weight_template, aliases, notation)
    parse_options = {"aliases": aliases, "weight_template": weight_template,
                     "notation": notation}
    pair = [_as_parameter(net, side, parse_options) for side in (first, second)]
    question = None not in pair and pair[0] != pair[1]
    if question:                        # "must w111 equal w211?": compare their gradients
        first, second = ("L", pair[0]), ("L", pair[1])
    label1, compact1, base1, key1, p1 = _side(net, first, show, parse_options)
    label2, compact2, base2, key2, p2 = _side(net, second, show, parse_options)
    budget.restart_clock()
    everything = net.inputs + net.targets + net.parameters
    result = Comparison(label1, label2, None, "", show(compact1), show(compact2))
    if question:
        result.notes = (f"{show(pair[0])} and {show(pair[1])} are weights, equal or not as "
                        "training goes; what gradient descent does with them is decided by "
                        "their gradients, compared here for one sample (the cost's are the "
                        "means of these over the batch, dC/dw = (1/m) sum_i dL_i/dw)",)
    elif "C" in (label1[1:2], label2[1:2]):
        result.notes = (_ONE_SAMPLE,)
    budget.report((copy(result), BEFORE_EVALUATION))
    decision = decide(base1, base2, points=options["points"], seed=options["seed"],
                      symbols=everything, proof_forms=[(compact1, compact2)],
                      prefer=natural_targets(net))
    result.equal, result.method = decision.equal, decision.method
    if decision.equal is False:
        ce = decision.counterexample
        assert ce is not None               # decide() gives one with every "not equal"
        result.counterexample = json_counterexample({show(s): v for s, v in ce.values.items()},
                                                    {"first": ce.claimed, "second": ce.true})
        named = type(ce)({sp.Symbol(show(s)): v for s, v in ce.values.items()}, ce.claimed,
                         ce.true, ce.others_free)
        result.counterexample_text = named.text(labels=(label1, label2))
        budget.report((copy(result), NO_CONDITIONS))
        factored, result.conditions = coincidence_conditions(net, base1 - base2, show)
        if factored is not None:
            result.difference = show(_positive(sp.Mul(*(_name_factor(net, f)
                                                        for f in sp.Mul.make_args(factored)))))
    n1, n2 = (hidden_neuron(net, p) if p is not None else None for p in (p1, p2))
    if key1 is not None and key1 == key2 and n1 and n2 and n1[0] == n2[0] and n1 != n2:
        budget.report((copy(result), NO_SYMMETRY))
        of = first[0] if isinstance(first, tuple) else label1[1:].split("/")[0]
        grads = truths(net, key1, "expanded")
        result.symmetry = symmetry(net, grads, n1[0], n1[1], n2[1], of, show) or None
    two = key1 == key2 == "loss" and p1 != p2 \
        and p1 in net.parameters and p2 in net.parameters
    if two and result.equal is not None:      # the same for dL/dw111 vs dL/dw211
        result.answer = weights_answer(net, p1, p2, show, not result.equal)
    return result


_ONE_SAMPLE = ("C read per sample (m = 1), as verify reads it: dC/dw = (1/m) sum_i dL_i/dw, so "
               "equal per-sample derivatives give equal cost gradients on every batch")


def _as_parameter(net, item, parse_options):
    """The parameter that ``item`` is on its own (``"w111"``), else None."""
    if isinstance(item, str):
        from symgrad.claims.parse import parse_quantity

        try:
            item = parse_quantity(item, net, **parse_options)
        except SymgradError:
            return None                 # reported by _side, with its column
    return item if isinstance(item, sp.Symbol) and item in net.parameters else None


def _positive(expr):
    """``-(a - b)*c`` as ``(b - a)*c``: a product's minus sign moved into a sum factor."""
    coeff, factors = expr.as_coeff_mul()
    if coeff >= 0:
        return expr
    for i, f in enumerate(factors):
        if f.is_Add:
            flipped = (*factors[:i], sp.expand(-f), *factors[i + 1:])
            return sp.Mul(-coeff, *flipped)
    return expr
