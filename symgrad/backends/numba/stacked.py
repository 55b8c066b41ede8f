"""The stacked kernel shape: loops over layers and neurons, samples innermost.

Networks with more than :data:`~symgrad.backends.numba.source.UNROLL_MAX`
parameters, ``method="reverse"``.  Samples go in blocks; every layer's values
for a block live in three arrays shared by all layers, one row per neuron and
one column per sample: ``AS`` (the inputs, then each layer's outputs ``a``),
``ZS`` (each layer's ``z``) and ``DS`` (each layer's adjoints ``delta``).  The
layers are walked by a loop over ``l`` that reads each layer's widths and row
and parameter offsets from small constant tables, so the code, and numba's
compile time with it, is the same for 2 layers of 16 neurons as for 20 layers
of 128: it grows only with the number of distinct activations, each of which
gets one branch (``if ACT[l] == 1:``) around its own loop over the samples.

The weighted sums ``z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}`` and
``sum_j w{l+1}{j}{k} delta{l+1}{j}`` add :data:`~symgrad.backends.numba.source.GROUP`
terms per pass over the block (then one at a time), in the order of a plain
loop over the terms, so the order of the additions depends only on the widths:
results are deterministic.  (The rows of a block sit in the L1 cache: 4 terms
per pass ran as fast as 8 on 4-16-16-1 and 8-64-64-1 tanh, and compile faster.)
"""

from __future__ import annotations

import sympy as sp

from symgrad.backends.numba.emit import (
    Emitter,
    KernelLayout,
    chunk_loop,
    entry_point,
    unsigned_constants,
)
from symgrad.backends.numba.printer import stage, temporaries
from symgrad.backends.numba.softmax import is_softmax, neuron_loss, softmax_block


def _tables(e: Emitter, layout: KernelLayout) -> dict:
    """Emit the per-layer constant tables (module level); return the activation codes."""
    W, L = layout.widths, layout.depth
    codes = {name: c for c, name in enumerate(dict.fromkeys(layout.activation[1:]))}
    z_row = [0, *(sum(W[1:l]) for l in range(1, L + 1))]            # ZS, DS rows of layer l
    a_row = [sum(W[:l]) for l in range(L + 1)]                       # AS rows of layer l
    bias = [0, *(layout.bias_offset[l] for l in range(1, L + 1))] if layout.bias else [0]
    e.line(f"WIDTH = np.array({list(W)})",
           f"W_AT = np.array({[0, *layout.weight_offset[1:]]})",
           f"B_AT = np.array({bias})",
           f"Z_ROW = np.array({z_row})", f"A_ROW = np.array({a_row})",
           f"ACT = np.array({[0, *(codes[a] for a in layout.activation[1:])]})")
    e.line(*(f"# ACT {c}: {name}" for name, c in codes.items()))
    e.blank(2)
    return codes


def _weighted(e: Emitter, out: str, n: str, weight: str, stream: str, group: int) -> None:
    """Emit ``out += sum_{q < n} weight(q) * stream(q)``, ``group``, 4, then 1 term per pass.

    ``weight`` and ``stream`` are templates in ``{q}`` (the term's index); ``out``
    and ``stream`` are element expressions in the sample index ``s``.
    """
    e.line("q = 0")
    for size in dict.fromkeys(x for x in (group, 4, 1) if x <= group):
        loop = "while" if size in (group, 1) else "if"
        with e.block(f"{loop} q + {size} <= {n}:"):
            e.line(*(f"w{i} = {weight.format(q=f'q + {i}')}" for i in range(size)))
            terms = " + ".join(f"w{i} * {stream.format(q=f'q + {i}')}" for i in range(size))
            with e.block("for s in range(nv):"):
                e.line(f"{out} = {out} + {terms}")
            e.line(f"q += {size}")


def _by_activation(e: Emitter, layout: KernelLayout, codes: dict, layer: str, layers,
                   body) -> None:
    """``if ACT[layer] == c:`` for each activation of ``layers``, ``body(name)`` inside."""
    for name in dict.fromkeys(layout.activation[l] for l in layers):
        with e.block(f"if ACT[{layer}] == {codes[name]}:"):
            body(name, layout.activation.index(name))


def _arrays(e: Emitter, layout: KernelLayout) -> None:
    W, L = layout.widths, layout.depth
    e.line(f"AS = np.empty(({sum(W)}, BLOCK))", f"ZS = np.empty(({sum(W[1:])}, BLOCK))",
           f"DS = np.empty(({sum(W[1:])}, BLOCK))", f"YB = np.empty(({W[L]}, BLOCK))",
           "SM = np.empty((3, BLOCK))",
           # X and Y as flat views, read with unsigned constant strides
           f"Xf = X.reshape(X.shape[0] * {W[0]})", f"Yf = Y.reshape(Y.shape[0] * {W[L]})")
    unsigned_constants(e, max(W[0], W[L]) + 1)


def _read_block(e: Emitter, layout: KernelLayout) -> None:
    """Copy the block's X and y into AS's first rows and YB; pad with x = 0 to nv columns."""
    n, k = layout.widths[0], layout.widths[layout.depth]
    e.line("nb = min(BLOCK, stop - b0)", "u = np.uint64(b0)", "ub = np.uint64(nb)",
           "nv = np.uint64((nb + LANES - 1) // LANES * LANES)  # pad: x = 0, delta = 0")
    with e.block("for s in range(ub):"):
        e.line(f"i = (u + s) * u{n}", *(f"AS[{q}, s] = Xf[i + u{q}]" for q in range(n)))
        e.line(f"i = (u + s) * u{k}", *(f"YB[{j}, s] = Yf[i + u{j}]" for j in range(k)))
    with e.block(f"for k in range({n}):"), e.block("for s in range(ub, nv):"):
        e.line("AS[k, s] = 0.0")


def _forward(e: Emitter, layout: KernelLayout, codes: dict, tmp, group: int) -> None:
    # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, then a{l}{j} = f(z{l}{j})
    with e.block(f"for l in range(1, {layout.depth + 1}):"):
        e.line("n_in = WIDTH[l - 1]", "a_in = A_ROW[l - 1]", "zr = Z_ROW[l]", "ar = A_ROW[l]")
        with e.block("for j in range(WIDTH[l]):"):
            e.line("r = zr + j", "w_at = W_AT[l] + j * n_in",
                   "bj = params[B_AT[l] + j]" if layout.bias else "bj = 0.0")
            with e.block("for s in range(nv):"):
                e.line("ZS[r, s] = bj")
            _weighted(e, "ZS[r, s]", "n_in", "params[w_at + {q}]", "AS[a_in + {q}, s]", group)

            def apply(name, l):
                if name == "softmax":          # coupled: the whole layer, below
                    return e.line("pass")
                with e.block("for s in range(nv):"):
                    e.line("z = ZS[r, s]")
                    stage(e, [(layout.a, layout.activation_of(l))], tmp)
                    e.line("AS[ar + j, s] = a")
            _by_activation(e, layout, codes, "l", range(1, layout.depth + 1), apply)
        if is_softmax(layout):
            with e.block(f"if l == {layout.depth}:"):
                softmax_block(e, "WIDTH[l]", "ZS[zr + {j}, s]", "AS[ar + {j}, s]")


def _loss(e: Emitter, layout: KernelLayout, tmp) -> None:
    L, W = layout.depth, layout.widths
    zr, ar = sum(W[1:L]), sum(W[:L])
    with e.block(f"for j in range({W[L]}):"):
        with e.block("for s in range(ub):"):
            e.line(f"z = ZS[{zr} + j, s]", f"a = AS[{ar} + j, s]", "y = YB[j, s]")
            if is_softmax(layout):
                e.line("_lse = SM[2, s]")
            stage(e, [(sp.Symbol("_loss"), neuron_loss(layout, layout.a, layout.z, layout.y)),
                      (sp.Symbol("_d"), layout.top_delta())], tmp)
            e.line("C[0, s] += _loss", f"DS[{zr} + j, s] = _d")
        with e.block("for s in range(ub, nv):"):
            e.line(f"DS[{zr} + j, s] = 0.0")


def _backward(e: Emitter, layout: KernelLayout, codes: dict, tmp, group: int) -> None:
    with e.block(f"for l in range({layout.depth}, 0, -1):"):
        e.line("n_in, n_out = WIDTH[l - 1], WIDTH[l]", "a_in = A_ROW[l - 1]",
               "zr = Z_ROW[l]", "w_at = W_AT[l]")
        # dC/dw{l}{j}{k} += sum_s delta{l}{j} a{l-1}{k};  dC/db{l}{j} += sum_s delta{l}{j}
        with e.block("for j in range(n_out):"):
            if layout.bias:
                e.line("G[B_AT[l] + 1 + j] += _sum(DS, zr + j, nv)")
            with e.block("for k in range(n_in):"):
                e.line("G[w_at + 1 + j * n_in + k] += _dot(DS, zr + j, AS, a_in + k, nv)")
        if layout.depth == 1:
            return
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        with e.block("if l > 1:"), e.block("for k in range(n_in):"):
            e.line("r = Z_ROW[l - 1] + k", "ar = a_in + k", "w_at = W_AT[l] + k")
            with e.block("for s in range(nv):"):
                e.line("DS[r, s] = 0.0")
            _weighted(e, "DS[r, s]", "n_out", "params[w_at + ({q}) * n_in]", "DS[zr + {q}, s]",
                      group)

            def scale(name, l):
                fprime = layout.local_derivative(l)
                if fprime == 1:
                    return e.line("pass")
                with e.block("for s in range(nv):"):
                    e.line("z = ZS[r, s]", "a = AS[ar, s]")
                    stage(e, [(sp.Symbol("_f"), fprime)], tmp)
                    e.line("DS[r, s] = DS[r, s] * _f")
            _by_activation(e, layout, codes, "l - 1", range(1, layout.depth), scale)


def stacked_chunk(e: Emitter, layout: KernelLayout, group: int) -> None:
    """``run_serial`` of the stacked kernel; ``group`` terms per pass."""
    tmp = temporaries()
    codes = _tables(e, layout)
    with entry_point(e):
        _arrays(e, layout)
        with chunk_loop(e):
            e.line("C = np.zeros((1, BLOCK))", "G = np.zeros(P + 1)")
            with e.block("for b0 in range(start, stop, BLOCK):"):
                _read_block(e, layout)
                _forward(e, layout, codes, tmp, group)
                _loss(e, layout, tmp)
                _backward(e, layout, codes, tmp, group)
            e.line("G[0] = _sum(C, 0, np.uint64(BLOCK))")
            with e.block("for q in range(P + 1):"):   # not row[:] = G: numba compiles
                e.line("row[q] = G[q]")                 # array assignment for seconds
