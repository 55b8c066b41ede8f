"""The two classic mistakes with a softmax output and cross-entropy, recognised.

With cross-entropy, ``dL/dz{L}k = sum_j dL/da{L}j * a{L}j (delta_jk - a{L}k)`` is
``a{L}k - yk``.  People get it wrong in two ways, and :func:`softmax_mistake`
names each when it explains a wrong claim exactly (at the verdict's points):

``softmax-diagonal``
    only the ``j = k`` term of the Jacobian sum: ``-yk/a{L}k * a{L}k (1 - a{L}k) =
    -yk (1 - a{L}k)``; the other outputs' terms, ``dL/da{L}j * (-a{L}j a{L}k)``,
    are left out (softmax treated as elementwise, with the sigmoid's ``a(1 - a)``).
``softmax-elementwise``
    ``a{L}k - yk`` multiplied once more by ``a{L}k (1 - a{L}k)``: the elementwise
    derivative applied on top of the identity that already contains the Jacobian.

Both are tried in the true derivative itself (every ``a{L}k - yk`` in it replaced
by the wrong form), so a claim by any parameter is recognised, not only by ``z``.
"""

from __future__ import annotations

#: The kinds :func:`softmax_mistake` returns (a wrong sign on top: ``sign+<kind>``).
KINDS = ("softmax-diagonal", "softmax-elementwise")


def _wrong_tops(net):
    """``{kind: {a{L}k - yk: wrong form}}`` for every output k."""
    L, K = net.depth, net.widths[-1]
    tops = [(net.a_symbol(L, k), net.targets[k - 1]) for k in range(1, K + 1)]
    return {
        "softmax-diagonal": {a - y: -y * (1 - a) for a, y in tops},
        "softmax-elementwise": {a - y: (a - y) * a * (1 - a) for a, y in tops},
    }


def _detail(kind: str, net) -> str:
    L = net.depth
    if kind == "softmax-diagonal":
        return (f"only the diagonal of the softmax Jacobian: dL/dz{L}k kept "
                f"dL/da{L}k * a{L}k*(1 - a{L}k) = -yk*(1 - a{L}k) and left out the other "
                f"outputs' terms dL/da{L}j * (-a{L}j*a{L}k), j != k; softmax couples the "
                f"outputs, and the full sum is dL/dz{L}k = a{L}k - yk")
    return (f"an extra factor a{L}k*(1 - a{L}k): the softmax derivative was applied as if "
            f"it were elementwise (a sigmoid's), on top of a{L}k - yk, which already is "
            f"dL/dz{L}k (the softmax Jacobian with cross-entropy)")


def softmax_mistake(case) -> tuple[str, str] | None:
    """``(kind, detail)`` of the classic softmax mistake that explains the claim, or None.

    ``case`` is a :class:`symgrad.claims.case.Case` about the loss or the cost of a
    network with a softmax output.
    """
    net = case.net
    if net.activations[-1] != "softmax" or not case.of_loss:
        return None
    defs = net.intermediate_definitions
    for kind, mapping in _wrong_tops(net).items():
        swapped = case.true_compact.xreplace(mapping)
        if swapped == case.true_compact:
            continue
        wrong = swapped.xreplace(defs)
        for sign in (1, -1):
            if case.agree(sign * case.claimed, wrong):
                return (kind if sign > 0 else "sign+" + kind), _detail(kind, net)
    return None

