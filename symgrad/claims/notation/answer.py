"""What a wrong verdict adds for a student: why the sign, where to look, a telling example.

Three small pieces, kept apart from the decision (:mod:`symgrad.claims.verify`) and the
diagnosis (:mod:`symgrad.claims.diagnose`), which they only read:

- :func:`sign_reason`: why the sign is what it is, whenever the diagnosis involves
  the sign (``sign``, ``sign+missing-factor``, ...);
- :func:`derive_command`: the ``symgrad derive`` command that shows the right chain;
- :func:`telling_point`: a counterexample in which every symbol the diagnosis names
  moves away from 1, so it shows each mistake (the seed's combined mistake needs
  ``w211 = 2`` besides the sign).
"""

from __future__ import annotations

import re
import shlex

import sympy as sp

from symgrad.spec import WEIGHT_TEMPLATE, weight_label

__all__ = ["derive_command", "sign_reason", "telling_point", "weights_answer"]

_REASONS = {
    "half-squared": "L = (y - yhat)**2/2 gives dL/dyhat = yhat - y (not y - yhat)",
    "squared": "L = (y - yhat)**2 gives dL/dyhat = 2*(yhat - y) (not 2*(y - yhat))",
}


def sign_reason(kind: str, detail: str, loss: str, of_loss: bool, output: str = "yhat"):
    """Why the sign is wrong, when the diagnosis ``kind`` involves the sign, else None.

    ``output`` is how the claim wrote the output (``y'``), so the reason is in its symbols.

    >>> sign_reason("sign+missing-factor", "wrong sign and ...", "half-squared", True, "y'")
    "L = (y - y')**2/2 gives dL/dy' = y' - y (not y - y')"
    """
    if "sign" not in kind.split("+") or not of_loss or loss not in _REASONS:
        return None
    if "dL/dyhat" in detail and output == "yhat":
        return None                                     # the diagnosis says it already
    return _REASONS[loss].replace("yhat", output)


def derive_command(spec, parameter: str, of_key: str, weight_template: str = WEIGHT_TEMPLATE,
                   of_text: str = "L") -> str | None:
    """``symgrad derive ARCH PARAM --of WHAT`` with the network's options, or None.

    Only for a derivative that ``symgrad derive`` writes out: of the loss, the cost
    or the single output, by a parameter.

    >>> from symgrad.spec import make_spec
    >>> derive_command(make_spec([2, 2, 1]), "w111", "loss", of_text="C")
    'symgrad derive 2-2-1 w111 --of cost'
    """
    if of_key == "loss":
        of = "cost" if of_text not in ("L",) and not of_text.startswith("L_") else "loss"
    elif of_key == "output" or spec.n_outputs == 1 and (
            of_key == f"a{spec.depth}1"
            or of_key == f"z{spec.depth}1" and spec.activations[-1] == "linear"):
        of = "output"
    else:
        return None
    words = ["symgrad", "derive", spec.arch, parameter, *network_flags(spec)]
    if weight_template != WEIGHT_TEMPLATE:
        words += ["--weight-name", weight_template]
    words += ["--of", of]
    return " ".join(shlex.quote(w) for w in words)


def network_flags(spec) -> list[str]:
    """The command-line options that rebuild ``spec``'s network (beyond ARCH)."""
    words = []
    hidden, out = spec.activations[:-1], spec.activations[-1]
    if any(a != "linear" for a in hidden):
        words += ["--activation", ",".join(hidden) if len(set(hidden)) > 1 else hidden[0]]
    if out != "linear":
        words += ["--output-activation", out]
    if spec.bias:
        words.append("--bias")
    if spec.loss != "half-squared":
        words += ["--loss", spec.loss]
    return words


def _where(net, p) -> tuple[int, int, int | None]:
    """``(layer, neuron, from-input or None for a bias)`` of parameter ``p``."""
    if p in net.weights:
        l, j, k = list(net.spec.weight_index())[net.weights.index(p)]
        return l, j, k
    l, j = net.neuron_of(p)
    return l, j, None


def weights_answer(net, p1, p2, show, differ: bool = True) -> list[str]:
    """Lines answering "must parameters p1 and p2 be equal?" (the seed question).

    Gradients do not make two weights equal; a symmetry of the network can keep
    them equal once they start equal.  Sibling weights (the same input into two
    neurons of one hidden layer) are exchanged by swapping those neurons; weights in
    different layers, or of one neuron, are exchanged by no symmetry.
    """
    (l1, j1, k1), (l2, j2, k2) = _where(net, p1), _where(net, p2)
    a, b = show(p1), show(p2)
    spec = net.spec
    data = ["--synthetic"] + (["--split", "0.3"] if spec.n_inputs == 2 else [])
    train = " ".join(["symgrad", "train", spec.arch, *network_flags(spec), *data])
    if l1 == l2 and l1 < spec.depth and j1 != j2 and k1 == k2:
        return [f"interchangeable: yes, by a symmetry of the network: swapping hidden "
                f"neurons {l1}{j1} and {l1}{j2} (with all their weights) exchanges {a} and "
                f"{b} and leaves the output unchanged. So the gradients keep {a} = {b} once "
                "it holds for the whole neuron (the symmetry below), and never make it hold",
                f"see it:          {train} --init symmetric   (the neurons stay identical; "
                "without --init symmetric they separate)"]
    if l1 != l2:
        why = (f"they are in different layers ({a} in layer {l1}, {b} in layer {l2}), and "
               "swapping neurons only exchanges weights of one layer")
    else:
        why = (f"swapping neurons {l1}{j1} and {l1}{j2} would exchange {a} with a weight "
               f"from the same input, not with {b}" if j1 != j2 else
               f"they feed the same neuron {l1}{j1} from different inputs, and inputs "
               "cannot be exchanged")
    moves = ("Their gradients differ (above), so gradient descent moves them differently, "
             "and " if differ else "")
    return [f"interchangeable: no symmetry of the network exchanges {a} and {b}: {why}. "
            f"{moves}nothing makes {a} equal {b}",
            f"see it:          {train}   (compare {a} and {b} at the end)"]


def parameter_label(net, parameter, weight_template: str = WEIGHT_TEMPLATE) -> str | None:
    """The name ``symgrad derive`` takes for ``parameter`` (None: not a parameter)."""
    if parameter not in net.parameters:
        return None
    index = net.parameters.index(parameter)
    if index < len(net.weights):
        l, j, k = list(net.spec.weight_index())[index]
        return weight_label(l, j, k, weight_template)
    return parameter.name


def telling_point(values: dict, detail: str, show, claimed, true, evaluate, differ):
    """A point like ``values`` where every symbol named in ``detail`` is 2, not 1.

    ``values`` maps symbols to numbers (a counterexample); ``show`` names a symbol as
    the diagnosis does; ``evaluate(expr, point)`` gives a value and ``differ(a, b)``
    says whether two values differ.  Returns ``(point, claimed value, true value)``,
    or None when no named symbol sits at 1 or the new point does not tell the sides
    apart better (the two values must differ and must not be each other's negatives).
    """
    words = set(re.findall(r"[A-Za-z_][\w^']*", detail))
    moved = {s: sp.Integer(2) for s, v in values.items() if v == 1 and show(s) in words}
    if not moved:
        return None
    point = {**values, **moved}
    c, t = evaluate(claimed, point), evaluate(true, point)
    if c is None or t is None or not differ(c, t) or not differ(c, -t):
        return None
    return point, c, t


def explain(case, diagnosis, ce, weight_template: str = WEIGHT_TEMPLATE,
            output: str | None = None):
    """``(reason, derive command, better counterexample)`` for a wrong claim (each may be None).

    ``case`` is the :class:`symgrad.claims.case.Case` the diagnosis read, ``ce`` the
    decision's :class:`~symgrad.claims.points.Counterexample`.
    """
    from symgrad.claims.points import evaluate, same_value

    net = case.net
    reason = sign_reason(diagnosis.kind, diagnosis.detail, net.loss_name, case.of_loss,
                         output or "yhat") if diagnosis else None
    name = parameter_label(net, case.parameter, weight_template)
    see = derive_command(net.spec, name, case.of_key, weight_template, case.of) \
        if name else None
    better = None
    if ce is not None and diagnosis is not None:
        found = telling_point(ce.values, diagnosis.detail, case.show, case.claimed, case.true,
                              evaluate, lambda a, b: same_value(a, b) is False)
        if found:
            better = type(ce)(found[0], found[1], found[2], ce.others_free)
    return reason, see, better
