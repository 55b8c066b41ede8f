"""The stacked kernel shape: loops over layers and neurons, samples innermost.

Networks with more than :data:`~symgrad.backends.numba.source.UNROLL_MAX`
parameters, ``method="reverse"``.  Samples go in blocks; every layer's values
for a block live in one scratch array ``S`` handed in by the caller, one row
per neuron and one column per sample: the inputs and each layer's outputs ``a``
(rows ``A_ROW[l]`` on), each layer's ``z`` (``Z_ROW[l]``) and adjoints
``delta`` (``D_ROW[l]``), the block's targets, the softmax's per-sample sums
and the block's losses.  The layers are walked by a loop over ``l`` that reads
each layer's widths and row and parameter offsets from small constant tables,
so the code, and numba's compile time with it, is the same for 2 layers of 16
neurons as for 20 layers of 128: it grows only with the number of distinct
activations, each of which gets one branch (``if ACT[l] == 1:``) around its
own loop over the samples.  The kernel calls no array constructor (numba
compiles each for a good part of a second in a new process); gradients add
straight into the chunk's row of ``out``.

The weighted sums ``z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}`` and
``sum_j w{l+1}{j}{k} delta{l+1}{j}`` add ``group`` terms per pass over the
block (then 4, then one at a time), in the order of a plain loop over the
terms, so the order of the additions depends only on the widths, not on
``group``: results are deterministic, and the same for every ``group``.
:func:`group_for` picks 4 terms per pass for networks with a layer of at least
:data:`GROUP_WIDTH` neurons (20% faster on 8-64-64-1 tanh) and one otherwise
(as fast on 4-16-16-1, and a quarter second less to compile).
"""

from __future__ import annotations

import sympy as sp

from symgrad.backends.numba.emit import Emitter, KernelLayout, chunk_loop, entry_point
from symgrad.backends.numba.printer import stage, temporaries
from symgrad.backends.numba.softmax import is_softmax, neuron_loss, softmax_block

#: Networks with a layer this wide add 4 terms of a weighted sum per pass (see
#: :func:`group_for`).
GROUP_WIDTH = 32


def identity(layout: KernelLayout, l: int) -> bool:
    """Whether layer ``l``'s activation is ``a = z``."""
    return layout.activation_of(l) == layout.z


def group_for(layout: KernelLayout, group: int) -> int:
    """Terms per pass of the weighted sums: ``group`` for wide networks, else 1."""
    return group if max(layout.widths) >= GROUP_WIDTH else 1


class Rows:
    """Where each block quantity starts in the scratch array ``S`` (one row per neuron).

    A layer whose activation is the identity (``a = z``) has its ``a`` in the
    rows of its ``z``: nothing is copied.
    """

    def __init__(self, layout: KernelLayout) -> None:
        widths = layout.widths
        neurons = sum(widths[1:])                                          # all but x
        self.z = [0, *(sum(widths) + sum(widths[1:l]) for l in range(1, len(widths)))]
        self.a = [self.z[l] if l and identity(layout, l) else sum(widths[:l])  # a0 = x
                  for l in range(len(widths))]
        self.d = [0, *(r + neurons for r in self.z[1:])]                    # delta{l}
        self.y = sum(widths) + 2 * neurons                                 # the targets
        self.sm = self.y + widths[-1]                                      # softmax: 3 rows
        self.cost = self.sm + 3                                            # the losses
        self.ones = self.cost + 1                     # 1.0: sums are dot products with it
        self.total = self.ones + 1


def _tables(e: Emitter, layout: KernelLayout, rows: Rows) -> dict:
    """Emit the per-layer constant tables (module level); return the activation codes."""
    W, L = layout.widths, layout.depth
    codes = {name: c for c, name in enumerate(dict.fromkeys(layout.activation[1:]))}
    bias = [0, *(layout.bias_offset[l] for l in range(1, L + 1))] if layout.bias else [0]
    e.line(f"WIDTH = np.array({list(W)})",
           f"W_AT = np.array({[0, *layout.weight_offset[1:]]})",
           f"B_AT = np.array({bias})",
           f"A_ROW = np.array({rows.a})", f"Z_ROW = np.array({rows.z})",
           f"D_ROW = np.array({rows.d})",
           f"ACT = np.array({[0, *(codes[a] for a in layout.activation[1:])]})")
    e.line(*(f"# ACT {c}: {name}" for name, c in codes.items()))
    e.blank(2)
    return codes


def _weighted(e: Emitter, out: str, first: str, n: str, weight: str, stream: str,
              group: int) -> None:
    """Emit ``out = first + sum_{q < n} weight(q) * stream(q)``, added left to right.

    The first term goes with ``first`` (one pass over the block, no separate
    initialisation), then ``group``, 4, and 1 term per pass.  ``weight`` and
    ``stream`` are templates in ``{q}`` (the term's index); ``out`` and ``stream``
    are element expressions in the sample index ``s``.  ``n`` is at least 1.
    """
    e.line(f"w0 = {weight.format(q='0')}")
    with e.block("for s in range(nv):"):
        e.line(f"{out} = {first} + w0 * {stream.format(q='0')}")
    e.line("q = 1")
    for size in dict.fromkeys(x for x in (group, 4, 1) if x <= group):
        loop = "while" if size in (group, 1) else "if"
        index = ["q", *(f"q + {i}" for i in range(1, size))]
        with e.block(f"{loop} q + {size} <= {n}:"):
            e.line(*(f"w{i} = {weight.format(q=q)}" for i, q in enumerate(index)))
            terms = " + ".join(f"w{i} * {stream.format(q=q)}" for i, q in enumerate(index))
            with e.block("for s in range(nv):"):
                e.line(f"{out} = {out} + {terms}")
            e.line(f"q += {size}")


def _by_activation(e: Emitter, layout: KernelLayout, codes: dict, layer: str, layers,
                   body) -> None:
    """``if ACT[layer] == c:`` for each activation of ``layers``, ``body(name)`` inside."""
    for name in dict.fromkeys(layout.activation[l] for l in layers):
        with e.block(f"if ACT[{layer}] == {codes[name]}:"):
            body(name, layout.activation.index(name))


def _read_block(e: Emitter, layout: KernelLayout, rows: Rows) -> None:
    """Copy the block's X and y into the input and target rows; pad with x = 0 to nv columns."""
    n, k = layout.widths[0], layout.widths[layout.depth]
    e.line("nb = stop - b0 if stop - b0 < BLOCK else BLOCK", "ub = np.uint64(nb)",
           "nv = np.uint64((nb + LANES - 1) // LANES * LANES)  # pad: x = 0, delta = 0")
    with e.block("for s in range(nb):"):
        e.line("i = b0 + s", *(f"S[{q}, s] = X[i, {q}]" for q in range(n)),
               *(f"S[{rows.y + j}, s] = Y[i, {j}]" for j in range(k)))
    with e.block(f"for k in range({n}):"), e.block("for s in range(ub, nv):"):
        e.line("S[k, s] = 0.0")


def _forward(e: Emitter, layout: KernelLayout, codes: dict, tmp, group: int,
             rows: Rows) -> None:
    # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, then a{l}{j} = f(z{l}{j})
    with e.block(f"for l in range(1, {layout.depth + 1}):"):
        e.line("n_in = WIDTH[l - 1]", "a_in = A_ROW[l - 1]", "zr = Z_ROW[l]", "ar = A_ROW[l]")
        with e.block("for j in range(WIDTH[l]):"):
            e.line("r = zr + j", "w_at = W_AT[l] + j * n_in",
                   "bj = params[B_AT[l] + j]" if layout.bias else "bj = 0.0")
            _weighted(e, "S[r, s]", "bj", "n_in", "params[w_at + {q}]", "S[a_in + {q}, s]",
                      group)

            def apply(name, l):
                if name == "softmax" or identity(layout, l):   # softmax: the whole layer,
                    return e.line("pass")                      # below; a = z: same rows
                with e.block("for s in range(nv):"):
                    e.line("z = S[r, s]")
                    stage(e, [(layout.a, layout.activation_of(l))], tmp)
                    e.line("S[ar + j, s] = a")
            _by_activation(e, layout, codes, "l", range(1, layout.depth + 1), apply)
        if is_softmax(layout):
            with e.block(f"if l == {layout.depth}:"):
                softmax_block(e, "WIDTH[l]", "S[zr + {j}, s]", "S[ar + {j}, s]",
                              f"S[{rows.sm} + {{i}}, s]")


def _loss(e: Emitter, layout: KernelLayout, tmp, rows: Rows) -> None:
    L, W = layout.depth, layout.widths
    zr, ar, dr = rows.z[L], rows.a[L], rows.d[L]
    with e.block(f"for j in range({W[L]}):"):
        with e.block("for s in range(ub):"):
            e.line(f"z = S[{zr} + j, s]", f"a = S[{ar} + j, s]", f"y = S[{rows.y} + j, s]")
            if is_softmax(layout):
                e.line(f"_lse = S[{rows.sm + 2}, s]")
            stage(e, [(sp.Symbol("_loss"), neuron_loss(layout, layout.a, layout.z, layout.y)),
                      (sp.Symbol("_d"), layout.top_delta())], tmp)
            e.line(f"S[{rows.cost}, s] += _loss", f"S[{dr} + j, s] = _d")
        with e.block("for s in range(ub, nv):"):
            e.line(f"S[{dr} + j, s] = 0.0")


def _backward(e: Emitter, layout: KernelLayout, codes: dict, tmp, group: int,
              rows: Rows) -> None:
    with e.block(f"for l in range({layout.depth}, 0, -1):"):
        e.line("n_in, n_out = WIDTH[l - 1], WIDTH[l]", "a_in = A_ROW[l - 1]",
               "dr = D_ROW[l]", "w_at = W_AT[l]")
        # dC/dw{l}{j}{k} += sum_s delta{l}{j} a{l-1}{k};  dC/db{l}{j} += sum_s delta{l}{j}
        with e.block("for j in range(n_out):"):
            if layout.bias:
                e.line(f"row[B_AT[l] + 1 + j] += _dot(S, dr + j, S, np.int64({rows.ones}), nv)")
            with e.block("for k in range(n_in):"):
                e.line("row[w_at + 1 + j * n_in + k] += _dot(S, dr + j, S, a_in + k, nv)")
        if layout.depth == 1:
            return
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        with e.block("if l > 1:"), e.block("for k in range(n_in):"):
            e.line("r = D_ROW[l - 1] + k", "zr = Z_ROW[l - 1] + k", "ar = a_in + k",
                   "w_at = W_AT[l] + k")
            _weighted(e, "S[r, s]", "0.0", "n_out", "params[w_at + ({q}) * n_in]",
                      "S[dr + {q}, s]", group)

            def scale(name, l):
                fprime = layout.local_derivative(l)
                if fprime == 1:
                    return e.line("pass")
                with e.block("for s in range(nv):"):
                    e.line("z = S[zr, s]", "a = S[ar, s]")
                    stage(e, [(sp.Symbol("_f"), fprime)], tmp)
                    e.line("S[r, s] = S[r, s] * _f")
            _by_activation(e, layout, codes, "l - 1", range(1, layout.depth), scale)


def stacked_chunk(e: Emitter, layout: KernelLayout, group: int) -> None:
    """``run_serial`` of the stacked kernel; up to ``group`` terms per pass (:func:`group_for`)."""
    tmp = temporaries()
    group = group_for(layout, group)
    rows = Rows(layout)
    codes = _tables(e, layout, rows)
    with entry_point(e, scratch_rows=rows.total), chunk_loop(e):
        with e.block("for q in range(P + 1):"):
            e.line("row[q] = 0.0")
        with e.block("for s in range(BLOCK):"):
            e.line(f"S[{rows.cost}, s] = 0.0", f"S[{rows.ones}, s] = 1.0")
        with e.block("for b0 in range(start, stop, BLOCK):"):
            _read_block(e, layout, rows)
            _forward(e, layout, codes, tmp, group, rows)
            _loss(e, layout, tmp, rows)
            _backward(e, layout, codes, tmp, group, rows)
        # np.int64: a literal row would compile _dot a second time, for Literal[int]
        e.line(f"row[0] = _dot(S, np.int64({rows.cost}), S, np.int64({rows.ones}), "
               "np.uint64(BLOCK))")
