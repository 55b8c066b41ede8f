"""The looped kernel shape: per-sample code for larger networks, one loop per layer step.

Straight-line code would grow with the weights, and numba's compile time with
it, so each layer becomes small loops over local arrays: ``W{l}`` (a view of
layer ``l``'s weights, row ``j`` = to-neuron ``j``), ``Z{l}``, ``A{l}`` and the
adjoints ``D{l}``; the gradients go to ``GW{l}`` and ``GB{l}``.  Per-neuron
formulas (activation, ``f'(z)``, loss, top adjoint) are printed from the
program in the generic symbols of :class:`~symgrad.backends.numba.emit.KernelLayout`.
"""

from __future__ import annotations

import sympy as sp

from symgrad.backends.numba.emit import Emitter, KernelLayout
from symgrad.backends.numba.printer import stage, temporaries


def _arrays(e: Emitter, layout: KernelLayout) -> None:
    W = layout.widths
    e.line(f"A0 = np.empty({W[0]})", "_cost = 0.0")
    for l in range(1, layout.depth + 1):
        n_in, n_out, w0 = W[l - 1], W[l], layout.weight_offset[l]
        e.line(f"W{l} = params[{w0}:{w0 + n_in * n_out}]",
               f"Z{l} = np.empty({n_out})", f"D{l} = np.empty({n_out})",
               f"GW{l} = np.zeros({n_in * n_out})", f"GB{l} = np.zeros({n_out})")
        if layout.activation[l] != "linear":
            e.line(f"A{l} = np.empty({n_out})")


def _forward(e: Emitter, layout: KernelLayout, tmp) -> None:
    W, A, a = layout.widths, layout.output, layout.a
    with e.block(f"for k in range({W[0]}):"):
        e.line("A0[k] = X[i, k]")
    for l in range(1, layout.depth + 1):
        # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, summed over k in order.
        n_in, n_out = W[l - 1], W[l]
        with e.block(f"for j in range({n_out}):"):
            e.line(f"s = params[{layout.bias_offset[l]} + j]" if layout.bias else "s = 0.0")
            with e.block(f"for k in range({n_in}):"):
                e.line(f"s += W{l}[j * {n_in} + k] * {A[l - 1]}[k]")
            e.line(f"Z{l}[j] = s")
        if layout.activation[l] != "linear":
            with e.block(f"for j in range({n_out}):"):
                e.line(f"z = Z{l}[j]")
                stage(e, [(a, layout.activation_of(l))], tmp)
                e.line(f"A{l}[j] = a")


def _loss(e: Emitter, layout: KernelLayout, tmp) -> None:
    L = layout.depth
    with e.block(f"for j in range({layout.widths[L]}):"):
        e.line(f"z = Z{L}[j]", f"a = {layout.output[L]}[j]", "y = Y[i, j]")
        stage(e, [(sp.Symbol("_loss"), layout.formulas.loss),
                  (sp.Symbol("_d"), layout.top_delta())], tmp)
        e.line("_cost += _loss", f"D{L}[j] = _d")


def _backward(e: Emitter, layout: KernelLayout, tmp) -> None:
    W, A = layout.widths, layout.output
    for l in range(layout.depth, 0, -1):
        n_in, n_out = W[l - 1], W[l]
        # dC/dw{l}{j}{k} += delta{l}{j} * a{l-1}{k};  dC/db{l}{j} += delta{l}{j}
        with e.block(f"for j in range({n_out}):"):
            e.line(f"dj = D{l}[j]", f"GB{l}[j] += dj")
            with e.block(f"for k in range({n_in}):"):
                e.line(f"GW{l}[j * {n_in} + k] += dj * {A[l - 1]}[k]")
        if l == 1:
            continue
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        with e.block(f"for k in range({n_in}):"):
            e.line(f"D{l - 1}[k] = 0.0")
        with e.block(f"for j in range({n_out}):"):
            e.line(f"dj = D{l}[j]")
            with e.block(f"for k in range({n_in}):"):
                e.line(f"D{l - 1}[k] += W{l}[j * {n_in} + k] * dj")
        fprime = layout.local_derivative(l - 1)
        if fprime != 1:
            with e.block(f"for k in range({n_in}):"):
                e.line(f"z = Z{l - 1}[k]", f"a = {A[l - 1]}[k]")
                stage(e, [(sp.Symbol("_f"), fprime)], tmp)
                e.line(f"D{l - 1}[k] *= _f")


def looped_chunk(e: Emitter, layout: KernelLayout, name: str) -> None:
    """The ``name`` function of the looped kernel: per-layer loops over small arrays."""
    W, tmp = layout.widths, temporaries()
    e.line("@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)")
    with e.block(f"def {name}(params, X, Y, start, stop, row):"):
        _arrays(e, layout)
        with e.block("for i in range(start, stop):"):
            _forward(e, layout, tmp)
            _loss(e, layout, tmp)
            _backward(e, layout, tmp)
        e.line("row[0] = _cost")
        for l in range(1, layout.depth + 1):
            w0, b0 = layout.weight_offset[l], layout.bias_offset[l]
            e.line(f"row[{w0 + 1}:{w0 + 1 + W[l - 1] * W[l]}] = GW{l}")
            if layout.bias:
                e.line(f"row[{b0 + 1}:{b0 + 1 + W[l]}] = GB{l}")
