"""Intermediate names: base expressions written with ``z{l}{j}`` and ``a{l}{j}``.

:func:`compress` turns an expression in base symbols back into the names a
person writes (``w211*z11`` rather than ``w211*(w111*x1 + w112*x2)``), for
diagnoses and for the conditions of a comparison.
"""

from __future__ import annotations

import sympy as sp


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
    pre-activation (``w111*x1 + w112*x2 - w211*x1`` becomes ``z11 - w211*x1``), or
    its negative (``y - w211*z11 - w212*z12`` becomes ``y - z21``).

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> compress(net, net.z(1, 1) * net.weight(2, 1, 1))
    w211*z11
    """
    names, sums = {}, []
    for l in range(1, net.depth + 1):
        linear = net.activations[l - 1] == "linear"
        for j in range(1, net.widths[l] + 1):
            a = net.a(l, j)
            names[a] = net.z_symbol(l, j) if linear else net.a_symbol(l, j)
            if a.is_Pow and a.exp == -1:          # 1/a (the sigmoid's 1 + exp(-z))
                names[a.base] = 1 / names[a]
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
                elif z.is_Add and {-t for t in z.args} <= set(e.args):
                    e = e + z - name
        return e

    return fold(expr.xreplace(names))


__all__ = ["compress"]
