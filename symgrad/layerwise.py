"""The loss gradient layer by layer: one formula per layer, not one per neuron.

Reverse mode (:mod:`symgrad.derive`) writes a statement for every neuron and
every weight, which is what a person reads but costs SymPy work in proportion
to the number of weights (seconds for tens of thousands).  Every neuron of a
layer applies the same activation and the same chain-rule step, so a backend
that works on whole layers (matrix products, loops over neurons) needs only
the formulas of one neuron: :func:`layer_formulas`.

>>> from symgrad import Network
>>> f = layer_formulas(Network([2, 2, 1], activation="tanh"))
>>> f.activation[1], f.derivative[1], f.top
(tanh(z), 1 - a**2, a - y)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symgrad.derive import local_derivative, top_adjoint
from symgrad.network import Network, activation_expr, loss_expr
from symgrad.softmax import softmax_top


@dataclass(frozen=True)
class LayerFormulas:
    """The reverse program of the loss written once per layer, not once per neuron.

    Every neuron of a layer applies the same activation and the same chain-rule
    step, so the formulas are written in generic symbols ``z``, ``a`` (one
    neuron's pre-activation and output) and ``y`` (its target); a backend applies
    them to a whole layer at once (a vector, an array, a loop over neurons).
    The sums over neurons (``z = b + sum_k w a``, ``delta = f'(z) * sum_j w delta``,
    ``d/dw = delta * a``) are the structure of the program itself, written by the
    backend as matrix products or loops.  Building this costs a handful of SymPy
    operations per layer, however many weights the layer has; only loss functions
    that are a sum over output neurons are written this way.
    """

    z: sp.Symbol
    a: sp.Symbol
    y: sp.Symbol
    #: ``activation[l]``: ``a = f(z)`` of layer ``l`` (index 0: ``None``; a softmax
    #: output, which couples its neurons, is ``None`` too: backends print it whole).
    activation: tuple
    #: ``derivative[l]``: ``f'(z)`` of layer ``l`` in ``z`` and ``a``.
    derivative: tuple
    #: One output neuron's loss, in ``a`` and ``y``.
    loss: sp.Expr
    #: One output neuron's adjoint ``delta = dL/da * f'(z)``, in ``z``, ``a``, ``y``.
    top: sp.Expr


def layer_formulas(net: Network) -> LayerFormulas:
    """The per-layer formulas of ``net``'s loss gradient (see :class:`LayerFormulas`).

    The result is kept on the network (like its reverse-mode programs).
    """
    cache = net.__dict__.setdefault("_programs", {})
    if "layers" not in cache:
        z, a, y = (sp.Symbol(n, real=True) for n in "zay")
        acts = (None, *net.activations)
        loss = loss_expr(net.loss_name, [a], [y])
        softmax = acts[-1] == "softmax"
        if softmax:       # cross-entropy: the Jacobian sum is a - y (symgrad.softmax)
            top = softmax_top(net, a, y)
        else:
            top = top_adjoint(sp.diff(loss, a), acts[-1], z, a, shorten=True)
        smooth = acts[1:-1] if softmax else acts[1:]
        cache["layers"] = LayerFormulas(
            z=z, a=a, y=y, loss=loss, top=top,
            activation=(None, *(activation_expr(n, z) for n in smooth),
                        *([None] if softmax else [])),
            derivative=(None, *(local_derivative(n, z, a) for n in smooth),
                        *([None] if softmax else [])))
    return cache["layers"]
