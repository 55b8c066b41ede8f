"""The unrolled and fused kernel shapes: one scalar statement per program step.

Small networks (at most :data:`~symgrad.backends.numba.source.UNROLL_MAX`
parameters) and every ``method="diff"`` kernel.  The per-sample statements
(:func:`_per_sample`) are the same in both shapes; they differ in how a sample
is read: ``X[i, k]`` in the unrolled per-sample kernel, ``Xf[i * u{n} + u{k}]``
(flat views, unsigned indices) in the fused one.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symgrad.backends.numba.emit import (
    Emitter,
    KernelLayout,
    chunk_loop,
    entry_point,
)
from symgrad.backends.numba.printer import stage, temporaries
from symgrad.backends.numba.softmax import is_softmax, neuron_loss, softmax_scalars
from symgrad.derive import delta_symbol, gradients

#: ``read(array, width, index)`` -> the source of one element of a sample's row:
#: ``array`` is ``"X"`` or ``"Y"``, ``width`` its row length, ``i`` the sample.
Reader = Callable[[str, int, int], str]


def unsigned_constants(e: Emitter, count: int) -> None:
    """Emit ``u0 = np.uint64(0)`` ... ``u{count-1}``: unsigned index constants.

    The fused kernel's sample indices are unsigned: numba then drops its
    negative-index wrap-around, which would turn every vector load into a gather.
    """
    e.line(*(f"u{q} = np.uint64({q})" for q in range(count)))


def _read_2d(array: str, width: int, index: int) -> str:
    return f"{array}[i, {index}]"


def _read_flat(array: str, width: int, index: int) -> str:
    return f"{array}f[i * u{width} + u{index}]"


def _per_sample(e: Emitter, layout: KernelLayout, method: str, read: Reader) -> None:
    """The statements for sample ``i``: read it, run the program, add to the sums."""
    net, tmp = layout.net, temporaries()
    n, k = net.spec.n_inputs, net.spec.n_outputs
    e.line(*(f"{x} = {read('X', n, q)}" for q, x in enumerate(net.inputs)))
    e.line(*(f"{t} = {read('Y', k, j)}" for j, t in enumerate(net.targets)))
    acc = [sp.Symbol("_cost")] + [sp.Symbol(f"_g{q}") for q in range(len(net.parameters))]
    # L2 is added once per batch by the backend (NumbaGradient), not per sample
    penalty = {p: net.l2 * p for p in net.penalised}
    if method == "diff":
        grads = gradients(net, "loss", method="diff")
        stage(e, list(zip(acc, [net.loss - net.penalty,
                                *(g - penalty.get(p, 0) for p, g in grads.items())])), tmp, "+=")
        return
    prog, W, L = layout.reverse, layout.widths, layout.depth
    outs = [net.a_symbol(L, j) for j in range(1, W[L] + 1)]
    for l in range(1, L + 1):                   # forward: z of layer l, then its a
        for kind in (net.z_symbol, net.a_symbol):
            names = {kind(l, j) for j in range(1, W[l] + 1)}
            if l == L and kind == net.a_symbol and is_softmax(layout):
                softmax_scalars(e, [str(net.z_symbol(L, j)) for j in range(1, W[L] + 1)],
                                [str(a) for a in outs])
                continue
            stage(e, [(s, x) for s, x in prog.forward if s in names], tmp)
    tops = {delta_symbol(L, j) for j in range(1, W[L] + 1)}
    loss = sp.Add(*[neuron_loss(layout, a, net.z_symbol(L, j), y)
                    for j, (a, y) in enumerate(zip(outs, net.targets), 1)])
    stage(e, [(sp.Symbol("_loss"), loss)] + [(s, x) for s, x in prog.deltas if s in tops], tmp)
    e.line("_cost += _loss")
    for l in range(L - 1, 0, -1):               # delta{l} = f'(z{l}) * sum_j w{l+1} delta{l+1}
        names = {delta_symbol(l, j) for j in range(1, W[l] + 1)}
        stage(e, [(s, x) for s, x in prog.deltas if s in names], tmp)
    stage(e, [(g, prog.grads[p] - penalty.get(p, 0)) for g, p in zip(acc[1:], net.parameters)],
          tmp, "+=")


def _parameters(e: Emitter, net) -> None:
    e.line(*(f"{p} = params[{q}]" for q, p in enumerate(net.parameters)))


def _zero_sums(e: Emitter, net) -> None:
    """A zero accumulator for the cost and each gradient."""
    e.line("_cost = 0.0", *(f"_g{q} = 0.0" for q in range(len(net.parameters))))


def _store_sums(e: Emitter, net) -> None:
    e.line("row[0] = _cost", *(f"row[{q + 1}] = _g{q}" for q in range(len(net.parameters))))


def unrolled_chunk(e: Emitter, layout: KernelLayout, method: str) -> None:
    """``run_serial`` of the unrolled kernel: one sample per iteration."""
    net = layout.net
    with entry_point(e):
        _parameters(e, net)
        with chunk_loop(e):
            _zero_sums(e, net)
            with e.block("for i in range(start, stop):"):
                _per_sample(e, layout, method, _read_2d)
            _store_sums(e, net)


def fused_chunk(e: Emitter, layout: KernelLayout) -> None:
    """``run_serial`` of the fused kernel (small networks; see the module notes)."""
    net = layout.net
    n, k = net.spec.n_inputs, net.spec.n_outputs
    with entry_point(e, "{'reassoc'}"):
        e.line(f"Xf = X.reshape(X.shape[0] * {n})", f"Yf = Y.reshape(Y.shape[0] * {k})")
        _parameters(e, net)
        unsigned_constants(e, max(n, k) + 1)
        with chunk_loop(e):
            _zero_sums(e, net)
            e.line("u = np.uint64(start)")
            with e.block("for s in range(np.uint64(stop - start)):"):
                e.line("i = u + s")
                _per_sample(e, layout, "reverse", _read_flat)
            _store_sums(e, net)
