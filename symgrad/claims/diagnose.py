"""Why a claimed derivative is wrong: a diagnosis with a stable kind.

:func:`diagnose` tests, in order, the mistakes people make when they backpropagate
by hand, and returns the first that explains the claim exactly (checked at the
random points of the verdict, 50 digits each):

``sign``
    claimed = -true (``y - yhat`` instead of ``yhat - y``).
``scale``
    claimed = c*true for a constant c; the detail names the likely cause (the
    1/2 of the half-squared loss, a factor 2 of the squared loss).
``wrong-parameter``
    claimed is the derivative for another parameter (named).
``transposed-index``
    claimed is the derivative for ``w{l}{k}{j}`` instead of ``w{l}{j}{k}``, or the
    whole claim uses the names with j and k swapped.
``pre-activation``
    ``z`` used where ``a = f(z)`` was meant, or an activation derivative
    ``f'(z)`` left out of the chain rule.
``missing-factor``
    true = claimed*F for a non-constant F (named, with the chain-rule step it
    comes from, e.g. the output weight ``w211``).
``extra-factor``
    claimed = true*G for a non-constant G.
``missing-path``
    a product of derivatives (``dL/dz31 * dz31/da21 * ...``) that follows one path
    where the parameter reaches the output through several neurons (named).
``broken-chain``
    a product of derivatives whose factors do not connect (which link).
``softmax-diagonal``, ``softmax-elementwise``
    the two classic mistakes with a softmax output and cross-entropy (the other
    outputs' terms of the Jacobian left out; ``a(1 - a)`` applied as if softmax
    were elementwise): :mod:`symgrad.claims.proof.softmax`.
``missing-l2``
    the claim is right but for the L2 term ``lambda * w`` (:mod:`symgrad.claims.proof.penalty`).
``other``
    none of the above.

The two chain kinds are tested first, on claims written with derivatives.

A wrong sign on top of another mistake gives ``sign+<kind>`` (for example
``sign+missing-factor`` for the seed question's ``(y - y')*x1``); these compound
kinds are stable too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from symgrad.activations import forward
from symgrad.claims.equivalence import (
    MAX_OPS,
    MIN_INFORMATIVE,
    constant_ratio,
    prove_equal,
    small_enough,
)
from symgrad.claims.nodes import chain_diagnosis
from symgrad.claims.proof.compact import compress
from symgrad.claims.proof.penalty import KINDS as L2_KINDS
from symgrad.claims.proof.penalty import l2_mistake
from symgrad.claims.proof.softmax import KINDS as SOFTMAX_KINDS
from symgrad.claims.proof.softmax import softmax_mistake
from symgrad.derive import delta_symbol, local_derivative, reverse_program

#: The base kinds; a compound kind is ``"sign+" + kind``.
KINDS = ("sign", "scale", "wrong-parameter", "transposed-index", "pre-activation",
         "missing-factor", "extra-factor", "missing-path", "broken-chain",
         *SOFTMAX_KINDS, *L2_KINDS, "other")


#: What a wrong claim gets when no relation holds on the evidence.
NO_RELATION = ("claimed and true differ; no simple relation found (not a sign, a constant or "
               "a simple factor): compare them term by term")


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a claim: a stable ``kind`` and a sentence ``detail``.

    ``relation`` (not shown) is the identity ``(lhs, rhs)`` in base symbols the
    diagnosis states, e.g. ``(claimed, 2*true)`` for a scale; None for the chain kinds.
    """

    kind: str
    detail: str
    relation: tuple | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "detail": self.detail}


def _signed(kind: str, sign: int) -> str:
    return kind if sign > 0 else "sign+" + kind


def diagnose(case) -> Diagnosis:
    """Diagnose a wrong claim.

    ``case`` is a :class:`symgrad.claims.case.Case`: the network, the quantity, the
    parameter, the claim (as written and in base symbols), the truth (compact and
    base), the diagnosis points, and the display names.  A relation is only
    stated when it holds at every point and at enough of them where its sides
    are nonzero (:meth:`Case.agree`).
    """
    found_chain = chain_diagnosis(case.net, case.of_key, case.parameter, case.chain)
    if found_chain:
        return Diagnosis(*found_chain)
    found_output = softmax_mistake(case) or l2_mistake(case)
    if found_output:
        return Diagnosis(*found_output)
    C, T = case.claimed, case.true
    if T != 0:
        c = constant_ratio(C, T, case.points, MIN_INFORMATIVE)
        if c is not None and c != 1:
            return _scale(case, c)
    for sign in (1, -1):
        found = _wrong_parameter(case, sign) or _pre_activation(case, sign)
        if found:
            return replace(found, relation=case.last)
    found = _stopped_chain(case) or _factor(case)
    if found:
        return replace(found, relation=case.last)
    if T == 0:
        return Diagnosis("other", f"the true derivative is 0: {case.of} does not depend on "
                                  f"{case.show(case.parameter)}")
    if C == 0:
        return Diagnosis("other",
                         f"claimed 0, but {case.of} depends on {case.show(case.parameter)}")
    return Diagnosis("other", NO_RELATION)


def _scale(case, c) -> Diagnosis:
    loss = case.net.loss_name
    if c == -1:      # why (dL/dyhat = yhat - y) is the verdict's own line, in the claim's symbols
        return Diagnosis("sign", "wrong sign: claimed = -true", (case.claimed, -case.true))
    detail = f"claimed = {c}*true"
    if case.of_loss and abs(c) == 2 and loss == "half-squared":
        detail += (": factor 2, the derivative of (y - yhat)**2 without the 1/2 of the "
                   "half-squared loss L = (y - yhat)**2/2 (use --loss squared if your loss "
                   "has no 1/2)")
    elif case.of_loss and abs(c) == sp.Rational(1, 2) and loss == "squared":
        detail += (": factor 1/2, the squared loss L = (y - yhat)**2 has dL/dyhat = "
                   "2*(yhat - y); the 1/2 belongs to the half-squared loss")
    elif case.of == "C" and abs(c) != 1:
        detail += " (a missing or extra 1/m of the batch mean?)"
    return Diagnosis("scale" if c > 0 else "sign+scale", detail,
                     (case.claimed, c * case.true))


def _transpose_map(net) -> dict:
    """``{w{l}{j}{k}: w{l}{k}{j}}`` for every weight whose swapped name exists."""
    index = dict(zip(net.spec.weight_index(), net.weights))
    return {w: index[(l, k, j)] for (l, j, k), w in index.items()
            if (l, k, j) in index and j != k}


def _wrong_parameter(case, sign):
    net, p, expr = case.net, case.parameter, sign * case.claimed
    swap = _transpose_map(net)
    for q in net.parameters:
        Tq = case.truth(q)
        if q == p or Tq == 0 or not case.agree(expr, Tq):
            continue
        if swap.get(p) == q:
            return Diagnosis(_signed("transposed-index", sign),
                             f"claimed is d{case.of}/d{case.show(q)}: the indices of "
                             f"{case.show(p)} were read in the order w{{l}}{{k}}{{j}}; "
                             "symgrad's w{l}{j}{k} goes to neuron j from input k "
                             "(use --weight-name if your notation differs)")
        return Diagnosis(_signed("wrong-parameter", sign),
                         f"claimed is d{case.of}/d{case.show(q)} = "
                         f"{case.show(case.truth(q, compact=True))}, the derivative for "
                         f"{case.show(q)}, not {case.show(p)} (check the layer and neuron "
                         "indices)")
    if p in swap and swap:
        renamed = expr.xreplace(swap)
        if renamed != expr and case.agree(renamed, case.truth(swap[p])):
            return Diagnosis(_signed("transposed-index", sign),
                             "the claim is right with every weight read as w{l}{k}{j} "
                             "(from-input before to-neuron); symgrad uses w{l}{j}{k}: "
                             "rerun with --weight-name w{l}{k}{j} if that is your notation")
    return None


def _nonlinear_nodes(net):
    # elementwise activations only: a softmax output has a Jacobian, not an f'(z)
    for l in range(1, net.depth + 1):
        if net.activations[l - 1] not in ("linear", "softmax"):
            for j in range(1, net.widths[l] + 1):
                yield l, j


def _pre_activation(case, sign):
    net, defs = case.net, case.net.intermediate_definitions
    expr = sign * case.claimed
    for l, j in _nonlinear_nodes(net):
        z, a = net.z_symbol(l, j), net.a_symbol(l, j)
        act = net.activations[l - 1]
        detail = f"{z} used where {a} = {act}({z}) was meant"
        if a in case.true_compact.free_symbols:
            swapped = case.true_compact.xreplace({a: z}).xreplace(defs)
            if case.agree(expr, swapped):
                return Diagnosis(_signed("pre-activation", sign), detail)
        if z in case.claimed_compact.free_symbols:
            fixed = case.claimed_compact.xreplace({z: a}).xreplace(defs)
            if case.agree(sign * fixed, case.true):
                return Diagnosis(_signed("pre-activation", sign), detail)
        local = local_derivative(act, z, a)
        if not local.is_number and case.true_compact.has(local):
            swapped = case.true_compact.subs(local, a).xreplace(defs)
            if swapped != case.true and case.agree(expr, swapped):
                prime = f"{act}'({z})"
                shown = prime if case.show(local) == prime else f"{prime} = {case.show(local)}"
                return Diagnosis(_signed("pre-activation", sign), f"{a} = {act}({z}) used "
                                 f"where the derivative {shown} was meant")
    return None


def _ratio(num, den, limit=MAX_OPS):
    """``cancel(num/den)`` when both are small enough, else None."""
    if den == 0 or not (small_enough(num, limit) and small_enough(den, limit)):
        return None
    try:
        return sp.cancel(num / den)
    except (sp.PolynomialError, ValueError, TypeError, RecursionError):
        return None


def _factor(case):
    """missing-factor / extra-factor / missing f'(z): true = claimed*F, F simple."""
    defs = case.net.intermediate_definitions
    forms = ((case.true_compact, compress(case.net, case.claimed), True, MAX_OPS),
             (case.true, case.claimed, False, MAX_OPS // 2))
    for num, den, compact, limit in forms:
        F = _ratio(num, den, limit)
        if F is None or F.is_number or sp.count_ops(F) > 40:
            continue
        if not case.agree(case.claimed * F.xreplace(defs), case.true):
            continue
        sign, F = _orient(case, F)
        if not compact:
            F = case.compress(F)
        if _derivatives(case, F):
            return _describe_factor(case, F, True, sign)
        n, d = sp.fraction(sp.factor_terms(F))
        if d.is_number:
            missing = True
        elif n.is_number:
            missing, F = False, sp.cancel(1 / F)
        else:
            continue
        return _describe_factor(case, F, missing, sign)
    return None


def _backpropagated_error(net, of_key, l, j):
    """``d(of)/d(a{l}{j}) = sum_i w{l+1}{i}{j} * delta{l+1}{i}`` in compact names."""
    prog = reverse_program(net, of_key)
    values = prog.delta_values()
    if delta_symbol(l + 1, 1) not in values:
        return None
    back = sum((net.weight(l + 1, i, j) * delta_symbol(l + 1, i)
                for i in range(1, net.widths[l + 1] + 1)), sp.S.Zero)
    return back.xreplace(values).xreplace(prog.compact_names)


def _stopped_chain(case):
    """The chain rule stopped at the parameter's own neuron: true = claimed * dX/da,
    where dX/da is the error backpropagated into that neuron from the layers above
    (too big a factor for :func:`_factor` to name, so it is recognised whole)."""
    net = case.net
    node = net.neuron_of(case.parameter)
    if node is None or node[0] >= net.depth:
        return None
    l, j = node
    S = _backpropagated_error(net, case.of_key, l, j)
    if S is None or S == 0:
        return None
    defs = net.intermediate_definitions
    z, a = net.z_symbol(l, j), net.a_symbol(l, j)
    fprime = local_derivative(net.activations[l - 1], z, a)
    for sign in (1, -1):
        for extra, what in ((sp.S.One, ""), (fprime, f" and the activation derivative "
                                                      f"{case.show(fprime)}")):
            if extra == 1 and S.is_Symbol:
                continue  # one missing weight: _factor names it more plainly
            if case.agree(sign * case.claimed * (extra * S).xreplace(defs), case.true):
                head = "wrong sign and " if sign < 0 else ""
                return Diagnosis(_signed("missing-factor", sign), (
                    f"{head}missing factor d{case.of}/d{case.show(a)} = {case.show(S)}{what}: "
                    f"the chain rule stops at neuron {l}{j} instead of continuing through "
                    f"the layers above it to {case.of}"))
    return None


def _split_sign(F):
    """``(sign, G)`` with ``F = sign*G``; a minus that a factor like ``z31 - 1`` can
    absorb (as ``1 - z31``) is not a wrong sign, a sum of negative terms is one."""
    if F.is_Add and all(t.as_coeff_Mul()[0] < 0 for t in F.args):
        return -1, -F
    coeff = F.as_coeff_Mul()[0]
    if coeff >= 0:
        return 1, F
    for part in sp.fraction(F):
        for f in sp.Mul.make_args(part):
            base, power = (f.base, f.exp) if f.is_Pow else (f, sp.S.One)
            signs = {t.as_coeff_Mul()[0] > 0 for t in sp.Add.make_args(base)}
            if base.is_Add and signs == {True, False} and power.is_integer and power.is_odd:
                return 1, -F.xreplace({base: -base})
    return -1, -F


def _orient(case, F):
    """``(sign, G)`` with ``F = sign*G``: the sign that leaves activation derivatives
    (``-(a11**2 - 1)`` is ``-f'(z11)`` for tanh), else :func:`_split_sign`'s."""
    for sign in (1, -1):
        if _derivatives(case, sign * F):
            return sign, sign * F
    return _split_sign(F)


def _derivative_of(case, f):
    """The ``(l, j, z, activation, f'(z))`` of the neuron whose activation derivative ``f``
    is (compared as functions of ``z``, so any form of it), or None."""
    for l, j in _nonlinear_nodes(case.net):
        z, a = case.net.z_symbol(l, j), case.net.a_symbol(l, j)
        act = case.net.activations[l - 1]
        local = local_derivative(act, z, a)
        if f == local:
            return l, j, z, act, local
        if f.free_symbols and f.free_symbols <= {z, a}:
            fz = {a: forward(act, z)}
            if prove_equal(f.xreplace(fz), local.xreplace(fz)):
                return l, j, z, act, local
    return None


def _derivatives(case, F) -> bool:
    """Whether ``F`` is an activation derivative, or a product of them."""
    if F.is_number:
        return False
    if _derivative_of(case, F):
        return True
    parts = [f for f in sp.Mul.make_args(F) if not f.is_number]
    return len(parts) > 1 and all(_derivative_of(case, f) for f in parts)


def _describe_factor(case, F, missing, sign):
    whole = _derivative_of(case, F)
    reasons, all_derivatives = [], True
    for f in ([F] if whole else sp.Mul.make_args(F)):
        if f.is_number:
            continue
        why, is_derivative = _explain(case, f)
        all_derivatives &= is_derivative
        if why:
            reasons.append(why)
    why = f" ({'; '.join(reasons)})" if reasons else ""
    shown = case.show(F)
    head = "wrong sign and " if sign < 0 else ""
    if missing and all_derivatives:
        return Diagnosis(_signed("pre-activation", sign),
                         f"{head}missing activation derivative: {'; '.join(reasons)}")
    kind = "missing-factor" if missing else "extra-factor"
    word = "missing factor" if missing else "extra factor"
    return Diagnosis(_signed(kind, sign), f"{head}{word} {shown}{why}")


def _explain(case, f):
    """A phrase for one factor and whether it is an activation derivative."""
    net = case.net
    base = f.base if f.is_Pow else f
    if base in net.weights:
        l, j, k = list(net.spec.weight_index())[net.weights.index(base)]
        if l == net.depth and net.widths[-1] == 1:
            return f"the chain rule through the output weight {case.show(base)}", False
        return (f"the chain rule through the weight {case.show(base)} from neuron "
                f"{l - 1}{k} to neuron {l}{j}"), False
    if base in net.inputs:
        return f"the input {case.show(base)}", False
    found = _derivative_of(case, f)
    if found:
        l, j, z, act, local = found
        shown = case.show(local)
        head = shown if shown == f"{act}'({case.show(z)})" else f"f'({case.show(z)}) = {shown}"
        return f"{head}, the derivative of {act} at neuron {l}{j}", True
    if case.of_loss and len(net.targets) == 1:
        err = net.a_symbol(net.depth, 1) - net.targets[0]
        if net.activations[-1] == "linear":
            err = err.xreplace({net.a_symbol(net.depth, 1): net.z_symbol(net.depth, 1)})
        if sp.expand(f - err) == 0 or sp.expand(f + err) == 0:
            return "the output error yhat - y from the loss", False
    return None, False
