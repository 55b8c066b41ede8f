"""The blocked kernel shape: samples innermost, a block of them at a time.

Larger networks, ``method="reverse"``.  Each block copies its ``X`` and ``y``
into arrays with one row per input or neuron and one column per sample, and
every step of the program is a loop over the block's samples (see
:mod:`symgrad.backends.numba.source` for why it vectorises).
"""

from __future__ import annotations

from contextlib import contextmanager

import sympy as sp

from symgrad.backends.numba.emit import Emitter, KernelLayout, unsigned_constants
from symgrad.backends.numba.printer import stage, temporaries


@contextmanager
def _weighted_sums(e: Emitter, loop: str, n_rows: int, rows, out: str, weights, streams,
                   init: str | None, group: int):
    """Emit ``out = init + sum_q weights[q] * streams[q]`` for each row ``loop``.

    ``out`` and ``streams[q]`` are element expressions in the sample index ``s``
    (``Z1[j, s]``, ``A0[2, s]``).  The terms are added in order ``q = 0, 1, ...``
    (the order of a plain loop), ``group`` at a time per pass over the samples,
    so ``out`` is loaded and stored once per group instead of once per term.
    The last pass binds the sum to ``_acc``; the body of the ``with`` statement is
    emitted there (it stores the sum).  Arrays are indexed in two dimensions,
    never sliced into row views: each view costs numba two atomic
    reference-count updates.
    """
    n_terms = len(weights)
    starts = range(0, n_terms, group)
    with e.block(f"for {loop} in range({n_rows}):"):
        e.line(*rows)
        for number, g in enumerate(starts):
            terms = []
            for i, q in enumerate(range(g, min(g + group, n_terms))):
                e.line(f"w{i} = {weights[q]}")
                terms.append(f"w{i} * {streams[q]}")
            first = init if number == 0 else out
            total = " + ".join(([first] if first else []) + terms)
            with e.block("for s in range(nv):"):
                if number < len(starts) - 1:
                    e.line(f"{out} = {total}")
                else:
                    e.line(f"_acc = {total}")
                    yield


def _arrays(e: Emitter, layout: KernelLayout) -> None:
    W, L = layout.widths, layout.depth
    e.line(f"A0 = np.empty(({W[0]}, BLOCK))", f"YB = np.empty(({W[L]}, BLOCK))",
           "C = np.zeros((1, BLOCK))", "G = np.zeros(P + 1)",
           # X and Y as flat views (once per chunk), read with unsigned constant strides
           f"Xf = X.reshape(X.shape[0] * {W[0]})", f"Yf = Y.reshape(Y.shape[0] * {W[L]})")
    for l in range(1, L + 1):
        e.line(f"Z{l} = np.empty(({W[l]}, BLOCK))", f"D{l} = np.empty(({W[l]}, BLOCK))")
        if layout.activation[l] != "linear":
            e.line(f"A{l} = np.empty(({W[l]}, BLOCK))")
    # Sample loops count with unsigned s (see unsigned_constants).
    unsigned_constants(e, max(W[0], W[L]) + 1)


def _read_block(e: Emitter, layout: KernelLayout) -> None:
    """Copy the block's X and y into A0 and YB; pad A0 with zeros to nv columns."""
    n, k = layout.widths[0], layout.widths[layout.depth]
    e.line("nb = min(BLOCK, stop - b0)", "u = np.uint64(b0)", "ub = np.uint64(nb)",
           "nv = np.uint64((nb + LANES - 1) // LANES * LANES)  # pad: X = 0, delta = 0")
    with e.block("for s in range(ub):"):
        e.line(f"i = (u + s) * u{n}", *(f"A0[{q}, s] = Xf[i + u{q}]" for q in range(n)))
        e.line(f"i = (u + s) * u{k}", *(f"YB[{j}, s] = Yf[i + u{j}]" for j in range(k)))
    with e.block(f"for k in range({n}):"), e.block("for s in range(ub, nv):"):
        e.line("A0[k, s] = 0.0")


def _forward(e: Emitter, layout: KernelLayout, tmp, group: int) -> None:
    W, A = layout.widths, layout.output
    for l in range(1, layout.depth + 1):
        # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, then a{l}{j} = f(z{l}{j})
        n_in, w0 = W[l - 1], layout.weight_offset[l]
        rows = [f"bj = params[{layout.bias_offset[l]} + j]"] if layout.bias else []
        weights = [f"params[{w0} + j * {n_in} + {k}]" for k in range(n_in)]
        streams = [f"{A[l - 1]}[{k}, s]" for k in range(n_in)]
        with _weighted_sums(e, "j", W[l], rows, f"Z{l}[j, s]", weights, streams,
                            "bj" if layout.bias else None, group):
            e.line("z = _acc", f"Z{l}[j, s] = z")
            if layout.activation[l] != "linear":
                stage(e, [(layout.a, layout.activation_of(l))], tmp)
                e.line(f"A{l}[j, s] = a")


def _loss(e: Emitter, layout: KernelLayout, tmp) -> None:
    L = layout.depth
    with e.block(f"for j in range({layout.widths[L]}):"):
        with e.block("for s in range(ub):"):
            e.line(f"z = Z{L}[j, s]", f"a = {layout.output[L]}[j, s]", "y = YB[j, s]")
            stage(e, [(sp.Symbol("_loss"), layout.formulas.loss),
                      (sp.Symbol("_d"), layout.top_delta())], tmp)
            e.line("C[0, s] += _loss", f"D{L}[j, s] = _d")
        with e.block("for s in range(ub, nv):"):
            e.line(f"D{L}[j, s] = 0.0")


def _backward(e: Emitter, layout: KernelLayout, tmp, group: int) -> None:
    W, A = layout.widths, layout.output
    for l in range(layout.depth, 0, -1):
        n_in, n_out = W[l - 1], W[l]
        w0, b0 = layout.weight_offset[l], layout.bias_offset[l]
        # dC/dw{l}{j}{k} += sum_s delta{l}{j} a{l-1}{k};  dC/db{l}{j} += sum_s delta{l}{j}
        with e.block(f"for j in range({n_out}):"):
            if layout.bias:
                e.line(f"G[{b0 + 1} + j] += _sum(D{l}, j, nv)")
            with e.block(f"for k in range({n_in}):"):
                e.line(f"G[{w0 + 1} + j * {n_in} + k] += _dot(D{l}, j, {A[l - 1]}, k, nv)")
        if l == 1:
            continue
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        fprime = layout.local_derivative(l - 1)
        weights = [f"params[{w0} + {j * n_in} + k]" for j in range(n_out)]
        streams = [f"D{l}[{j}, s]" for j in range(n_out)]
        with _weighted_sums(e, "k", n_in, [], f"D{l - 1}[k, s]", weights, streams, None,
                            group):
            if fprime == 1:
                e.line(f"D{l - 1}[k, s] = _acc")
            else:
                e.line(f"z = Z{l - 1}[k, s]", f"a = {A[l - 1]}[k, s]")
                stage(e, [(sp.Symbol("_f"), fprime)], tmp)
                e.line(f"D{l - 1}[k, s] = _acc * _f")


def blocked_chunk(e: Emitter, layout: KernelLayout, group: int) -> None:
    """The ``_chunk`` function of the blocked kernel; ``group`` terms per pass."""
    tmp = temporaries()
    e.line("@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)")
    with e.block("def _chunk(params, X, Y, start, stop, row):"):
        _arrays(e, layout)
        with e.block("for b0 in range(start, stop, BLOCK):"):
            _read_block(e, layout)
            _forward(e, layout, tmp, group)
            _loss(e, layout, tmp)
            _backward(e, layout, tmp, group)
        e.line("G[0] = _sum(C, 0, np.uint64(BLOCK))", "row[:] = G")
