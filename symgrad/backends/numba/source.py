"""Source code of symgrad's numba kernels, printed from the reverse-mode program.

:func:`kernel_source` returns the Python text of one kernel module for a network;
:mod:`symgrad.backends.numba.backend` writes it to the cache, imports it and wraps it.  This module
imports no numba, so the generated code can be read and tested without it.

Code shapes
-----------
* **Fused** (``method="reverse"`` kernels of networks with at most
  :data:`UNROLL_MAX` parameters, batches of at least :data:`SMALL` samples): the
  unrolled per-sample statements (below) in one loop over the samples with an
  unsigned index and ``X``, ``y`` read through flat views, compiled with
  ``fastmath={'reassoc'}`` and nothing else: LLVM may then split the running
  sums into SIMD lanes and vectorise the whole body across samples (tanh is
  branch-free).  Each chunk is one call, so the order of the additions depends
  only on the compiled code and ``m``: results stay deterministic.
* **Blocked** (``method="reverse"`` kernels of larger networks, batches of at
  least :data:`SMALL` samples): samples go in blocks of :data:`BLOCK`; each block
  copies its ``X`` and ``y`` into small arrays with one row per input or neuron
  and one column per sample, and every step of the program becomes a loop over
  the block's samples, innermost, so LLVM runs it in SIMD lanes: a layer's
  ``z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}`` adds :data:`GROUP` terms
  per pass (in the order of a plain loop) and applies the activation in its
  last pass; the adjoints ``delta{l-1}{k} = f'(z{l-1}{k}) sum_j w{l}{j}{k}
  delta{l}{j}`` likewise; each gradient adds the block's ``sum_s delta a`` (a
  dot product). The per-neuron formulas (activation, ``f'(z)``, loss, top
  adjoint) are printed from the program's expressions.  Two details make the
  loops vectorise: sample indices are unsigned (numba then drops the
  negative-index wrap-around, which turns vector loads into gathers), and the
  block's sums are the only code compiled with ``fastmath={'reassoc'}`` (LLVM
  may then add in SIMD lanes; the order depends only on the compiled code and
  the block length, so results stay deterministic).  A block is padded to a
  multiple of :data:`LANES` with ``x = 0`` and ``delta = 0``, which add exact
  zeros.
* **Unrolled** (per-sample code for networks with at most :data:`UNROLL_MAX`
  parameters, and every ``method="diff"`` kernel): every ``z``, ``a`` and
  ``delta`` of the program is one scalar statement, CSE'd with ``sympy.cse``
  stage by stage (a layer's ``z``, its ``a``, the loss with the top adjoints,
  each lower layer's adjoints, the gradients); every gradient has its own
  scalar accumulator.
* **Looped** (per-sample code for larger networks): each layer becomes small
  loops over local arrays (straight-line code would grow with the weights, and
  numba's compile time with it).

Per-sample code serves batches of fewer than :data:`SMALL` samples (there the
set-up of blocks costs more than it saves, e.g. at m = 1).

Printing: ``math.`` functions; ``u**2`` as ``u*u``; relu and its step as
conditional expressions (derivative 0 at the kink, as everywhere in symgrad);
``log(1 + exp(u))`` (softplus) as ``_softplus(u) = max(u, 0) + log1p(exp(-|u|))``,
which never overflows; ``tanh`` as ``_tanh``, branch-free so that loops over it
vectorise: a Taylor polynomial below 0.2 and ``(1 - e)/(1 + e)``,
``e = exp(-2|z|)``, above, with ``exp`` computed by ``_exp_negative`` (range
reduction, a Taylor polynomial and ``2**n`` built from its bits; no libm call):
within 3 ulp of libm's tanh, and in SIMD about 4x faster than libm's.

>>> from symgrad import Network
>>> src = kernel_source(Network([2, 2, 1]))
>>> print(src[src.index("    for s in range(np.uint64"):src.index("row[0] = _cost")].strip())
for s in range(np.uint64(stop - start)):
        i = u + s
        x1 = Xf[i * u2 + u0]
        x2 = Xf[i * u2 + u1]
        y = Yf[i * u1 + u0]
        z11 = w111*x1 + w112*x2
        z12 = w121*x1 + w122*x2
        a11 = z11
        a12 = z12
        z21 = a11*w211 + a12*w212
        a21 = z21
        _t0 = a21 - y
        _loss = (0.5)*_t0*_t0
        delta21 = _t0
        _cost += _loss
        delta11 = delta21*w211
        delta12 = delta21*w212
        _g0 += delta11*x1
        _g1 += delta11*x2
        _g2 += delta12*x1
        _g3 += delta12*x2
        _g4 += a11*delta21
        _g5 += a12*delta21
"""

from __future__ import annotations

import itertools
import re

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symgrad.backends.numba.runtime import DRIVERS as _DRIVERS
from symgrad.backends.numba.runtime import HEADER as _HEADER
from symgrad.backends.numba.runtime import exp_polynomial as _exp_polynomial
from symgrad.backends.numba.runtime import tanh_polynomial as _tanh_polynomial
from symgrad.derive import delta_symbol, gradients, local_derivative, reverse_program
from symgrad.network import Network, activation_expr, loss_expr

#: Largest parameter count compiled as unrolled scalar code (see the module notes).
UNROLL_MAX = 64
#: Samples per chunk: the unit of parallel work and of the partial sums.
CHUNK = 1024
#: Samples per block of the blocked kernel (a divisor of CHUNK, a multiple of LANES).
BLOCK = 128
#: Batches with fewer samples run the per-sample code (unrolled or looped).
SMALL = 8
#: Terms of a neuron's weighted sum added per pass over a block (blocked kernel).
GROUP = 8
#: SIMD lanes: sample blocks are padded to a multiple of this.
LANES = 8
_softplus = sp.Function("_softplus")


class _Printer(PythonCodePrinter):
    """Python printer for numba: ``math.`` functions, products for small powers."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True,
                          "user_functions": {"_softplus": "_softplus"}})

    def _print_Pow(self, expr, rational=False):
        base, e = self.parenthesize(expr.base, 100), expr.exp
        if e == -1:
            return f"1.0/{base}"
        if e in (2, 3):
            return "*".join([base] * int(e))
        if e == -2:
            return f"1.0/({base}*{base})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Rational(self, expr):
        return f"{float(expr)!r}"

    def _print_kinked(self, expr):
        # relu, leaky_relu and their steps: a conditional expression on z > 0
        return self._print(expr.rewrite(sp.Piecewise))

    def _print_tanh(self, expr):
        return f"_tanh({self._print(expr.args[0])})"

    _print_relu = _print_leaky_relu = _print_step = _print_leaky_step = _print_kinked


def _with_softplus(expr):
    """Replace ``log(1 + exp(u))`` by ``_softplus(u)`` (overflow-free; CSE-proof)."""
    def is_softplus(e):
        if not isinstance(e, sp.log) or not isinstance(e.args[0], sp.Add):
            return False
        terms = e.args[0].args
        return len(terms) == 2 and sp.S.One in terms and any(isinstance(t, sp.exp)
                                                             for t in terms)

    def rewrite(e):
        u = next(t for t in e.args[0].args if isinstance(t, sp.exp)).args[0]
        return _softplus(u)

    return sp.sympify(expr).replace(is_softplus, rewrite)


def _stage(lines, assignments, indent, tmp, op="="):
    """Emit ``target op expr`` for ``assignments`` after one ``sympy.cse`` pass."""
    printer = _Printer()
    targets = [t for t, _ in assignments]
    exprs = [_with_softplus(e) for _, e in assignments]
    replacements, reduced = sp.cse(exprs, symbols=tmp, optimizations="basic")
    for sym, expr in replacements:
        lines.append(f"{indent}{sym} = {printer.doprint(expr)}")
    for target, expr in zip(targets, reduced):
        lines.append(f"{indent}{target} {op} {printer.doprint(expr)}")


def _unrolled_body(net: Network, method: str) -> list:
    """Per-sample statements of the unrolled kernel (indent: inside the sample loop)."""
    ind, tmp = " " * 8, (sp.Symbol(f"_t{i}") for i in itertools.count())
    lines = [f"{ind}{x} = X[i, {k}]" for k, x in enumerate(net.inputs)]
    lines += [f"{ind}{t} = Y[i, {j}]" for j, t in enumerate(net.targets)]
    acc = [(sp.Symbol("_cost"), None)] + [(sp.Symbol(f"_g{n}"), None)
                                          for n in range(len(net.parameters))]
    if method == "diff":
        grads = gradients(net, "loss", method="diff")
        _stage(lines, list(zip([a for a, _ in acc], [net.loss, *grads.values()])),
               ind, tmp, "+=")
        return lines
    prog = reverse_program(net, "loss")
    for l in range(1, net.depth + 1):          # forward: z of layer l, then its a
        for kind in (net.z_symbol, net.a_symbol):
            names = {kind(l, j) for j in range(1, net.widths[l] + 1)}
            _stage(lines, [(s, e) for s, e in prog.forward if s in names], ind, tmp)
    outs = [net.a_symbol(net.depth, j) for j in range(1, net.widths[-1] + 1)]
    top = [(s, e) for s, e in prog.deltas
           if s in {delta_symbol(net.depth, j) for j in range(1, net.widths[-1] + 1)}]
    _stage(lines, [(sp.Symbol("_loss"), loss_expr(net.loss_name, outs, net.targets))]
           + top, ind, tmp)
    lines.append(f"{ind}_cost += _loss")
    for l in range(net.depth - 1, 0, -1):      # delta{l} = f'(z{l}) * sum_j w{l+1} delta{l+1}
        names = {delta_symbol(l, j) for j in range(1, net.widths[l] + 1)}
        _stage(lines, [(s, e) for s, e in prog.deltas if s in names], ind, tmp)
    _stage(lines, [(a, prog.grads[p]) for (a, _), p in zip(acc[1:], net.parameters)],
           ind, tmp, "+=")
    return lines


def _unrolled_chunk(net: Network, method: str, name: str) -> list:
    """The ``name`` function of the unrolled kernel."""
    P = len(net.parameters)
    lines = ["@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)",
             f"def {name}(params, X, Y, start, stop, row):"]
    lines += [f"    {p} = params[{n}]" for n, p in enumerate(net.parameters)]
    lines += ["    _cost = 0.0"] + [f"    _g{n} = 0.0" for n in range(P)]
    lines.append("    for i in range(start, stop):")
    lines += _unrolled_body(net, method)
    lines.append("    row[0] = _cost")
    lines += [f"    row[{n + 1}] = _g{n}" for n in range(P)]
    return lines


def _fused_chunk(net: Network) -> list:
    """The ``_chunk`` function of the fused kernel (small networks; see the module notes)."""
    P, n, k = len(net.parameters), net.spec.n_inputs, net.spec.n_outputs
    lines = ["@njit(cache=True, fastmath={'reassoc'}, error_model='numpy', nogil=True)",
             "def _chunk(params, X, Y, start, stop, row):",
             f"    Xf = X.reshape(X.shape[0] * {n})", f"    Yf = Y.reshape(Y.shape[0] * {k})"]
    lines += [f"    {p} = params[{q}]" for q, p in enumerate(net.parameters)]
    lines += ["    _cost = 0.0"] + [f"    _g{q} = 0.0" for q in range(P)]
    lines += [f"    u{q} = np.uint64({q})" for q in range(max(n, k) + 1)]
    lines += ["    u = np.uint64(start)", "    for s in range(np.uint64(stop - start)):",
              "        i = u + s"]
    for line in _unrolled_body(net, "reverse"):
        m = re.fullmatch(r"(\s*)(\w+) = ([XY])\[i, (\d+)\]", line)
        if m:
            width = n if m.group(3) == "X" else k
            line = f"{m.group(1)}{m.group(2)} = {m.group(3)}f[i * u{width} + u{m.group(4)}]"
        lines.append(line)
    lines.append("    row[0] = _cost")
    lines += [f"    row[{q + 1}] = _g{q}" for q in range(P)]
    return lines


def _layout(net: Network):
    """What the looped and blocked kernels share: the program, widths, depth, generic
    symbols z/a/y, a temporary-name stream, each layer's weight and bias offsets in
    params (1-based lists), its activation, and the array holding its output."""
    prog, W, L = reverse_program(net, "loss"), net.widths, net.depth
    z, a, y = (sp.Symbol(n, real=True) for n in ("z", "a", "y"))
    tmp = (sp.Symbol(f"_t{i}") for i in itertools.count())
    index = {p: n for n, p in enumerate(net.parameters)}
    woff = [None] + [index[net.weight(l, 1, 1)] for l in range(1, L + 1)]
    boff = [None] + [index[net.biases[sum(W[1:l])]] if net.bias else None
                     for l in range(1, L + 1)]
    act = [None] + list(net.activations)
    A = ["A0"] + [f"Z{l}" if act[l] == "linear" else f"A{l}" for l in range(1, L + 1)]
    return prog, W, L, z, a, y, tmp, woff, boff, act, A


def _looped_chunk(net: Network, name: str) -> list:
    """The ``name`` function of the looped kernel: per-layer loops over small arrays."""
    prog, W, L, z, a, y, tmp, woff, boff, act, A = _layout(net)
    lines = ["@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)",
             f"def {name}(params, X, Y, start, stop, row):",
             f"    A0 = np.empty({W[0]})", "    _cost = 0.0"]
    for l in range(1, L + 1):
        n_in, n_out = W[l - 1], W[l]
        lines += [f"    W{l} = params[{woff[l]}:{woff[l] + n_in * n_out}]",
                  f"    Z{l} = np.empty({n_out})", f"    D{l} = np.empty({n_out})",
                  f"    GW{l} = np.zeros({n_in * n_out})", f"    GB{l} = np.zeros({n_out})"]
        if act[l] != "linear":
            lines.append(f"    A{l} = np.empty({n_out})")
    lines += ["    for i in range(start, stop):",
              f"        for k in range({W[0]}):", "            A0[k] = X[i, k]"]
    for l in range(1, L + 1):
        # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, summed over k in order.
        n_in, n_out = W[l - 1], W[l]
        init = f"params[{boff[l]} + j]" if net.bias else "0.0"
        lines += [f"        for j in range({n_out}):", f"            s = {init}",
                  f"            for k in range({n_in}):",
                  f"                s += W{l}[j * {n_in} + k] * {A[l - 1]}[k]",
                  f"            Z{l}[j] = s"]
        if act[l] != "linear":
            lines += [f"        for j in range({n_out}):", f"            z = Z{l}[j]"]
            _stage(lines, [(a, activation_expr(act[l], z))], " " * 12, tmp)
            lines.append(f"            A{l}[j] = a")
    generic = {net.a_symbol(L, 1): a, net.z_symbol(L, 1): z, net.targets[0]: y}
    top = dict(prog.deltas)[delta_symbol(L, 1)].xreplace(generic)
    lines += [f"        for j in range({W[L]}):", f"            z = Z{L}[j]",
              f"            a = {A[L]}[j]", "            y = Y[i, j]"]
    _stage(lines, [(sp.Symbol("_loss"), loss_expr(net.loss_name, [a], [y])),
                   (sp.Symbol("_d"), top)], " " * 12, tmp)
    lines += ["            _cost += _loss", f"            D{L}[j] = _d"]
    for l in range(L, 0, -1):
        n_in, n_out = W[l - 1], W[l]
        # dC/dw{l}{j}{k} += delta{l}{j} * a{l-1}{k};  dC/db{l}{j} += delta{l}{j}
        lines += [f"        for j in range({n_out}):", f"            dj = D{l}[j]",
                  f"            GB{l}[j] += dj", f"            for k in range({n_in}):",
                  f"                GW{l}[j * {n_in} + k] += dj * {A[l - 1]}[k]"]
        if l == 1:
            continue
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        lines += [f"        for k in range({n_in}):", f"            D{l - 1}[k] = 0.0",
                  f"        for j in range({n_out}):", f"            dj = D{l}[j]",
                  f"            for k in range({n_in}):",
                  f"                D{l - 1}[k] += W{l}[j * {n_in} + k] * dj"]
        fprime = local_derivative(act[l - 1], z, a)
        if fprime != 1:
            lines += [f"        for k in range({n_in}):", f"            z = Z{l - 1}[k]",
                      f"            a = {A[l - 1]}[k]"]
            _stage(lines, [(sp.Symbol("_f"), fprime)], " " * 12, tmp)
            lines.append(f"            D{l - 1}[k] *= _f")
    lines.append("    row[0] = _cost")
    for l in range(1, L + 1):
        lines.append(f"    row[{woff[l] + 1}:{woff[l] + 1 + W[l - 1] * W[l]}] = GW{l}")
        if net.bias:
            lines.append(f"    row[{boff[l] + 1}:{boff[l] + 1 + W[l]}] = GB{l}")
    return lines


def _weighted_sums(lines, loop, n_rows, rows, out, n_terms, weight, stream, init, finish):
    """Emit ``out = init + sum_q weight(q) * stream(q)`` for each row ``loop``.

    ``out`` and ``stream(q)`` are element expressions in the sample index ``s``
    (``Z1[j, s]``, ``A0[2, s]``).  The terms are added in order ``q = 0, 1, ...``
    (the order of a plain loop), :data:`GROUP` at a time per pass over the
    samples, so ``out`` is loaded and stored once per group instead of once per
    term.  The last pass binds the sum to ``_acc`` and runs ``finish`` (which
    stores it).  Arrays are indexed in two dimensions, never sliced into row
    views: each view costs numba two atomic reference-count updates.
    """
    ind = " " * 8
    lines += [f"{ind}for {loop} in range({n_rows}):"] + [f"{ind}    {r}" for r in rows]
    groups = [range(g, min(g + GROUP, n_terms)) for g in range(0, n_terms, GROUP)]
    for number, group in enumerate(groups):
        terms = []
        for i, q in enumerate(group):
            lines.append(f"{ind}    w{i} = {weight(q)}")
            terms.append(f"w{i} * {stream(q)}")
        first = init if number == 0 else out
        total = " + ".join(([first] if first else []) + terms)
        lines.append(f"{ind}    for s in range(nv):")
        if number < len(groups) - 1:
            lines.append(f"{ind}        {out} = {total}")
        else:
            lines += [f"{ind}        _acc = {total}"] + [f"{ind}        {f}" for f in finish]


def _blocked_chunk(net: Network) -> list:
    """The ``_chunk`` function of the blocked kernel (see the module notes)."""
    prog, W, L, z, a, y, tmp, woff, boff, act, A = _layout(net)
    lines = ["@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)",
             "def _chunk(params, X, Y, start, stop, row):",
             f"    A0 = np.empty(({W[0]}, BLOCK))", f"    YB = np.empty(({W[L]}, BLOCK))",
             "    C = np.zeros((1, BLOCK))", "    G = np.zeros(P + 1)",
             # X and Y as flat views (once per chunk), read with unsigned constant strides
             f"    Xf = X.reshape(X.shape[0] * {W[0]})", f"    Yf = Y.reshape(Y.shape[0] * {W[L]})"]
    for l in range(1, L + 1):
        lines += [f"    Z{l} = np.empty(({W[l]}, BLOCK))", f"    D{l} = np.empty(({W[l]}, BLOCK))"]
        if act[l] != "linear":
            lines.append(f"    A{l} = np.empty(({W[l]}, BLOCK))")
    # Sample loops count with unsigned s: numba then drops its negative-index
    # wrap-around, which would turn every vector load into a gather.
    lines += [f"    u{q} = np.uint64({q})" for q in range(max(W[0], W[L]) + 1)]
    lines += ["    for b0 in range(start, stop, BLOCK):",
              "        nb = min(BLOCK, stop - b0)",
              "        u = np.uint64(b0)",
              "        ub = np.uint64(nb)",
              "        nv = np.uint64((nb + LANES - 1) // LANES * LANES)  # pad: X = 0, delta = 0",
              "        for s in range(ub):", f"            i = (u + s) * u{W[0]}",
              *[f"            A0[{k}, s] = Xf[i + u{k}]" for k in range(W[0])],
              f"            i = (u + s) * u{W[L]}",
              *[f"            YB[{j}, s] = Yf[i + u{j}]" for j in range(W[L])],
              f"        for k in range({W[0]}):",
              "            for s in range(ub, nv):", "                A0[k, s] = 0.0"]
    for l in range(1, L + 1):
        # z{l}{j} = b{l}{j} + sum_k w{l}{j}{k} a{l-1}{k}, then a{l}{j} = f(z{l}{j})
        n_in, n_out = W[l - 1], W[l]
        finish = ["z = _acc", f"Z{l}[j, s] = z"]
        if act[l] != "linear":
            _stage(finish, [(a, activation_expr(act[l], z))], "", tmp)
            finish.append(f"A{l}[j, s] = a")
        _weighted_sums(lines, "j", n_out, [f"bj = params[{boff[l]} + j]"] if net.bias else [],
                       f"Z{l}[j, s]", n_in,
                       lambda k, l=l, n_in=n_in: f"params[{woff[l]} + j * {n_in} + {k}]",
                       lambda k, l=l: f"{A[l - 1]}[{k}, s]", "bj" if net.bias else None, finish)
    generic = {net.a_symbol(L, 1): a, net.z_symbol(L, 1): z, net.targets[0]: y}
    top = dict(prog.deltas)[delta_symbol(L, 1)].xreplace(generic)
    lines += [f"        for j in range({W[L]}):", "            for s in range(ub):",
              f"                z = Z{L}[j, s]", f"                a = {A[L]}[j, s]",
              "                y = YB[j, s]"]
    _stage(lines, [(sp.Symbol("_loss"), loss_expr(net.loss_name, [a], [y])),
                   (sp.Symbol("_d"), top)], " " * 16, tmp)
    lines += ["                C[0, s] += _loss", f"                D{L}[j, s] = _d",
              "            for s in range(ub, nv):", f"                D{L}[j, s] = 0.0"]
    for l in range(L, 0, -1):
        n_in, n_out = W[l - 1], W[l]
        # dC/dw{l}{j}{k} += sum_s delta{l}{j} a{l-1}{k};  dC/db{l}{j} += sum_s delta{l}{j}
        lines += [f"        for j in range({n_out}):",
                  *([f"            G[{boff[l] + 1} + j] += _sum(D{l}, j, nv)"] if net.bias else []),
                  f"            for k in range({n_in}):",
                  f"                G[{woff[l] + 1} + j * {n_in} + k] += "
                  f"_dot(D{l}, j, {A[l - 1]}, k, nv)"]
        if l == 1:
            continue
        # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
        fprime = local_derivative(act[l - 1], z, a)
        finish = [f"D{l - 1}[k, s] = _acc"]
        if fprime != 1:
            finish = [f"z = Z{l - 1}[k, s]", f"a = {A[l - 1]}[k, s]"]
            _stage(finish, [(sp.Symbol("_f"), fprime)], "", tmp)
            finish.append(f"D{l - 1}[k, s] = _acc * _f")
        _weighted_sums(lines, "k", n_in, [], f"D{l - 1}[k, s]", n_out,
                       lambda j, l=l, n_in=n_in: f"params[{woff[l]} + {j * n_in} + k]",
                       lambda j, l=l: f"D{l}[{j}, s]", None, finish)
    lines += ["    G[0] = _sum(C, 0, np.uint64(BLOCK))", "    row[:] = G"]
    return lines


def kernel_source(net: Network, method: str = "reverse") -> str:
    """The Python source of the numba kernel module for ``net`` (not compiled)."""
    unrolled = net.spec.n_parameters <= UNROLL_MAX
    if method == "diff":
        chunks = _unrolled_chunk(net, method, "_chunk") + ["", "", "_chunk_small = _chunk"]
        shape = "unrolled"
    else:
        small = (_unrolled_chunk(net, method, "_chunk_small") if unrolled
                 else _looped_chunk(net, "_chunk_small"))
        chunks = (_fused_chunk(net) if unrolled else _blocked_chunk(net)) + ["", ""] + small
        shape = (f"fused; unrolled below {SMALL} samples" if unrolled
                 else f"blocked; looped below {SMALL} samples")
    head = _HEADER.format(describe=net.describe(), method=method, P=net.spec.n_parameters,
                          CHUNK=CHUNK, BLOCK=BLOCK, LANES=LANES, SMALL=SMALL,
                          poly=_tanh_polynomial(), exp_poly=_exp_polynomial(), shape=shape)
    return head + "\n".join(chunks) + "\n\n" + _DRIVERS
