"""The softmax output layer in the reverse program: its forward step and its Jacobian.

Softmax couples the neurons of the output layer, so reverse mode cannot multiply
each neuron's adjoint by its own ``f'(z)`` as for an elementwise activation
(:mod:`symgrad.activations`); the top adjoint is a sum over the Jacobian
``da{L}{j}/dz{L}{k} = a{L}{j} (delta_jk - a{L}{k})``.  :mod:`symgrad.derive` calls
:func:`softmax_delta` for the top layer of a softmax network and nothing else
changes below it.

>>> from symgrad import Network
>>> net = Network([2, 3], output_activation="softmax")
>>> softmax_jacobian(net, 1, 1, 1), softmax_jacobian(net, 1, 1, 2)
(a11*(1 - a11), -a11*a12)
"""

from __future__ import annotations

import sympy as sp

from symgrad.network import Network, loss_expr, softmax_expr


def softmax_output(net: Network, l: int, j: int) -> sp.Expr:
    """``a{l}{j} = exp(z{l}{j}) / sum_k exp(z{l}{k})`` in the names ``z{l}{k}``."""
    return softmax_expr(net.z_symbol(l, i) for i in range(1, net.widths[l] + 1))[j - 1]


def softmax_jacobian(net: Network, l: int, j: int, k: int) -> sp.Expr:
    """``da{l}{j}/dz{l}{k} = a{l}{j} (delta_jk - a{l}{k})`` of a softmax layer."""
    a_j = net.a_symbol(l, j)
    return a_j * ((1 if j == k else 0) - net.a_symbol(l, k))


def softmax_delta(net: Network, l: int, k: int, seed, node, kind: str) -> sp.Expr:
    """The top adjoint ``delta{l}{k}`` of a softmax layer: the Jacobian, not f'(z).

    ``delta{l}{k} = sum_j d(of)/d(a{l}{j}) * a{l}{j} (delta_jk - a{l}{k})``.  For the
    cross-entropy loss that sum is ``a{l}{k} * (y1 + ... + yK) - yk``, which is the
    textbook ``a{l}{k} - yk`` because the targets sum to 1 (the last one is one minus
    the others): the short form is used once SymPy has proved the two equal.
    """
    if seed is None:                        # of = z{l}{j}: delta is 1 for that neuron
        return sp.S.One if k == node[1] else sp.S.Zero
    d = sp.Add(*[g * softmax_jacobian(net, l, j, k) for j, g in seed.items()])
    if kind == "loss":
        short = net.a_symbol(l, k) - net.targets[k - 1]
        defs = net.target_definitions
        if sp.expand((d - short).xreplace(defs)) == 0:
            return short
    return d


def softmax_top(net: Network, a: sp.Symbol, y: sp.Symbol) -> sp.Expr:
    """The top adjoint of the loss for every output neuron, in generic ``a`` and ``y``.

    It is ``a - y`` (cross-entropy, the only loss a softmax takes); this checks that
    :func:`softmax_delta` gives exactly that for every neuron before a backend that
    works on whole layers relies on it.
    """
    L, K = net.depth, net.widths[-1]
    outs = [net.a_symbol(L, j) for j in range(1, K + 1)]
    loss = loss_expr(net.loss_name, outs, net.targets)
    seed = {j: sp.diff(loss, outs[j - 1]) for j in range(1, K + 1)}
    for k in range(1, K + 1):
        if softmax_delta(net, L, k, seed, None, "loss") != outs[k - 1] - net.targets[k - 1]:
            raise ValueError(f"the top adjoint of output {k} is not a - y")
    return a - y
