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
``other``
    none of the above.

The two chain kinds are tested first, on claims written with derivatives.

A wrong sign on top of another mistake gives ``sign+<kind>`` (for example
``sign+missing-factor`` for the seed question's ``(y - y')*x1``); these compound
kinds are stable too.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.claims.equivalence import MAX_OPS, constant_ratio, small_enough
from symgrad.claims.nodes import chain_diagnosis
from symgrad.derive import delta_symbol, local_derivative, reverse_program

#: The base kinds; a compound kind is ``"sign+" + kind``.
KINDS = ("sign", "scale", "wrong-parameter", "transposed-index", "pre-activation",
         "missing-factor", "extra-factor", "missing-path", "broken-chain", "other")


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a claim: a stable ``kind`` and a sentence ``detail``."""

    kind: str
    detail: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "detail": self.detail}


def _compact_z(net, l, j):
    """``z{l}{j}`` written in the names of the layer below: ``b21 + w211*a11 + ...``."""
    def below(k):
        if l == 1:
            return net.inputs[k - 1]
        linear = net.activations[l - 2] == "linear"
        return net.z_symbol(l - 1, k) if linear else net.a_symbol(l - 1, k)
    z = sp.Add(*(net.weight(l, j, k) * below(k) for k in range(1, net.widths[l - 1] + 1)))
    if net.bias:
        z += dict(zip(net.spec.bias_index(), net.biases))[l, j]
    return z


def compress(net, expr):
    """Replace base sub-expressions by the names ``z{l}{j}``/``a{l}{j}`` they define.

    Whole definitions are replaced, and so are sums that contain a neuron's whole
    pre-activation (``w111*x1 + w112*x2 - w211*x1`` becomes ``z11 - w211*x1``).

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> compress(net, net.z(1, 1) * net.weight(2, 1, 1))
    w211*z11
    """
    names, sums = {}, []
    for l in range(1, net.depth + 1):
        linear = net.activations[l - 1] == "linear"
        for j in range(1, net.widths[l] + 1):
            names[net.a(l, j)] = net.z_symbol(l, j) if linear else net.a_symbol(l, j)
            names[net.z(l, j)] = net.z_symbol(l, j)
            sums.append((_compact_z(net, l, j), net.z_symbol(l, j)))

    def fold(e):
        if e.is_Atom or not e.args:
            return e
        e = e.func(*(fold(a) for a in e.args))
        if e.is_Add:
            for z, name in sums:  # lower layers first: their names appear in higher sums
                if z.is_Add and set(z.args) <= set(e.args):
                    e = e - z + name
        return e

    return fold(expr.xreplace(names))


def _signed(kind: str, sign: int) -> str:
    return kind if sign > 0 else "sign+" + kind


def diagnose(case) -> Diagnosis:
    """Diagnose a wrong claim.

    ``case`` is a :class:`symgrad.claims.verify.Case`: the network, the quantity, the
    parameter, the claim (as written and in base symbols), the truth (compact and
    base), the random points, and the display names.
    """
    found_chain = chain_diagnosis(case.net, case.of_key, case.parameter, case.chain)
    if found_chain:
        return Diagnosis(*found_chain)
    C, T = case.claimed, case.true
    if T != 0:
        c = constant_ratio(C, T, case.points)
        if c is not None:
            return _scale(case, c)
    for sign in (1, -1):
        found = _wrong_parameter(case, sign) or _pre_activation(case, sign)
        if found:
            return found
    found = _stopped_chain(case) or _factor(case)
    if found:
        return found
    if T == 0:
        return Diagnosis("other", f"the true derivative is 0: {case.of} does not depend on "
                                  f"{case.show(case.parameter)}")
    if C == 0:
        return Diagnosis("other",
                         f"claimed 0, but {case.of} depends on {case.show(case.parameter)}")
    return Diagnosis("other", "claimed and true differ by more than a sign, a constant or a "
                              "simple factor; compare them term by term")


def _scale(case, c) -> Diagnosis:
    loss = case.net.loss_name
    if c == -1:
        detail = "wrong sign: claimed = -true"
        if case.of_loss and loss in ("half-squared", "squared"):
            detail += " (the loss (y - yhat)**2 gives dL/dyhat = yhat - y, not y - yhat)"
        return Diagnosis("sign", detail)
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
    return Diagnosis("scale" if c > 0 else "sign+scale", detail)


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
    for l in range(1, net.depth + 1):
        if net.activations[l - 1] != "linear":
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
        sign, F = _split_sign(F)
        n, d = sp.fraction(sp.factor_terms(F))
        if d.is_number:
            missing = True
        elif n.is_number:
            missing, F = False, sp.cancel(1 / F)
        else:
            continue
        if not compact:
            F = case.compress(F)
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
    absorb (as ``1 - z31``) is not a wrong sign."""
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


def _describe_factor(case, F, missing, sign):
    reasons, all_derivatives = [], True
    for f in sp.Mul.make_args(F):
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
    for l, j in _nonlinear_nodes(net):
        z, a = net.z_symbol(l, j), net.a_symbol(l, j)
        act = net.activations[l - 1]
        local = local_derivative(act, z, a)
        if f == local or (f.free_symbols <= {z, a} and sp.expand(f - local) == 0):
            return f"f'({z}) = {case.show(local)}, the derivative of {act} at neuron {l}{j}", True
    if case.of_loss and len(net.targets) == 1:
        err = net.a_symbol(net.depth, 1) - net.targets[0]
        if net.activations[-1] == "linear":
            err = err.xreplace({net.a_symbol(net.depth, 1): net.z_symbol(net.depth, 1)})
        if sp.expand(f - err) == 0 or sp.expand(f + err) == 0:
            return "the output error yhat - y from the loss", False
    return None, False
