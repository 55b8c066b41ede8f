"""The numpy backend: symbolic gradients compiled into vectorised numpy code.

:func:`compile_numpy` (reached through :func:`symgrad.compile_gradients`) turns the
symbolic reverse-mode program of
:mod:`symgrad.derive` into Python source, compiles it once, and returns a callable
``f(params, X, y) -> (cost, grad)`` vectorised over the batch.

The generated code keeps the program's layer structure.  Elementwise pieces (the
activation, its derivative, the loss and the top adjoint) are printed from the
SymPy expressions after common-subexpression elimination and applied to whole
``(m, width)`` arrays at once; the sums over neurons that the program writes as
``sum_k w{l}{j}{k} * a{l-1}{k}`` (forward) and ``sum_j w{l+1}{j}{k} * delta{l+1}{j}``
(backward) become matrix products, and ``d/dw{l}{j}{k} = delta{l}{j} * a{l-1}{k}``
summed over the batch becomes ``D.T @ A``.  One flat scalar expression per
weight (``method="diff"``) is also available; it is much slower on wide
networks because every weight then needs its own pass over the batch.

Warning: the generated source is executed with ``exec``.  It is built only from
the network spec and SymPy's printer, never from user text.
"""

from __future__ import annotations

import itertools
import linecache
import math

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symgrad import activations
from symgrad.backends.base import CompiledGradient
from symgrad.derive import gradients
from symgrad.layerwise import layer_formulas
from symgrad.network import Network

_counter = itertools.count()


class _Printer(NumPyPrinter):
    """NumPy printer that writes ``numpy.`` (the generated module's import)."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True})

    def _print_Pow(self, expr, rational=False):
        # 1/u is a division, not a power call: numpy's power is several times slower.
        if expr.exp == -1:
            return f"1/({self._print(expr.base)})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Function(self, expr):
        # An activation's own numpy form (activations.protect), e.g. softplus as
        # logaddexp(0, u), which does not overflow for large u.
        code = activations.native_code(expr.func.__name__, "numpy", self._print(expr.args[0]))
        return code if code is not None else super()._print_Function(expr)

    def _print_erf(self, expr):
        # numpy has no erf (GELU): math.erf, vectorised in the generated module
        return f"_erf({self._print(expr.args[0])})"


def _emit(lines, targets, exprs, indent="    "):
    """Append ``target = expr`` lines for ``exprs`` after CSE; return nothing."""
    printer = _Printer()
    tmp = (sp.Symbol(f"_t{i}") for i in itertools.count())
    # No "basic" optimisations: they pull out signs (-G*(A**2 - 1)), one more pass.
    protected = [activations.protect(e, "numpy") for e in exprs]
    replacements, reduced = sp.cse(protected, symbols=tmp)
    for sym, expr in replacements:
        lines.append(f"{indent}{sym} = {printer.doprint(expr)}")
    for target, expr in zip(targets, reduced):
        lines.append(f"{indent}{target} = {printer.doprint(expr)}")


def _layer_source(net: Network) -> str:
    """Generate the layer-structured gradient kernel from the per-layer formulas."""
    form = layer_formulas(net)
    spec, W = net.spec, net.widths
    L = spec.depth
    lines = ["def kernel(params, X, Y):", "    m = X.shape[0]"]
    for l in range(1, L + 1):
        # Layer l's weights are one contiguous block, row j = to-neuron j (spec.py).
        w = spec.weight_slice(l)
        lines.append(f"    W{l} = params[{w.start}:{w.stop}].reshape({W[l]}, {W[l - 1]})")
    for l in range(1, L + 1):
        if net.bias:
            b = spec.bias_slice(l)
            lines.append(f"    B{l} = params[{b.start}:{b.stop}]")
    lines.append("    A0 = X")
    for l in range(1, L + 1):
        # z{l}{j} = sum_k w{l}{j}{k} a{l-1}{k} (+ b{l}{j}) for every j: one product.
        lines.append(f"    Z{l} = A{l - 1} @ W{l}.T" + (f" + B{l}" if net.bias else ""))
        if net.activations[l - 1] == "softmax":
            _softmax_lines(lines, l)
        else:
            _emit(lines, [f"A{l}"], [_on_arrays(form.activation[l], form, l)])
    if net.activations[L - 1] == "softmax":
        # cross-entropy from log a = z - max - log(sum exp(z - max)): finite even where
        # a underflows to 0
        lines.append(f"    _loss = -(Y * (Z{L} - _top - numpy.log(_sum))).sum(axis=1)")
    else:
        _emit(lines, ["_loss"], [_on_arrays(form.loss, form, L)])
    lines.append("    cost = float(numpy.sum(_loss)) / m")
    # Top adjoint delta{L}{j}, one formula for every output j.
    _emit(lines, [f"D{L}"], [_on_arrays(form.top, form, L)])
    for l in range(L, 0, -1):
        lines.append(f"    GW{l} = D{l}.T @ A{l - 1}")
        if net.bias:
            lines.append(f"    GB{l} = D{l}.sum(axis=0)")
        if l > 1:
            # delta{l-1}{k} = f'(z{l-1}{k}) * sum_j w{l}{j}{k} delta{l}{j}
            lines.append(f"    G = D{l} @ W{l}")
            fprime = _on_arrays(form.derivative[l - 1], form, l - 1)
            if fprime == 1:
                lines.append(f"    D{l - 1} = G")
            else:
                _emit(lines, [f"D{l - 1}"], [sp.Symbol("G") * fprime])
    parts = [f"GW{l}.ravel()" for l in range(1, L + 1)]
    if net.bias:
        parts += [f"GB{l}" for l in range(1, L + 1)]
    lines.append(f"    grad = numpy.concatenate([{', '.join(parts)}])")
    lines.append("    grad /= m")
    if spec.l2:
        # L2: cost + (lambda/2) sum p**2 and grad + lambda p over the penalised block
        n = spec.n_parameters if spec.l2_bias else spec.n_weights
        lines += [f"    _p = params[:{n}]", f"    cost += {spec.l2 / 2!r} * float(_p @ _p)",
                  f"    grad[:{n}] += {spec.l2!r} * _p"]
    lines.append("    return cost, grad")
    return "\n".join(lines) + "\n"


def _softmax_lines(lines, l):
    """``A{l}`` = the softmax of each row of ``Z{l}``; exp of z - max cannot overflow."""
    lines += [f"    _top = Z{l}.max(axis=1, keepdims=True)",
              f"    _exp = numpy.exp(Z{l} - _top)",
              "    _sum = _exp.sum(axis=1, keepdims=True)",
              f"    A{l} = _exp / _sum"]


def _on_arrays(expr: sp.Expr, form, l: int) -> sp.Expr:
    """A per-neuron formula applied to layer ``l``'s arrays ``Z{l}``, ``A{l}`` and ``Y``."""
    return expr.xreplace({form.z: sp.Symbol(f"Z{l}", real=True),
                          form.a: sp.Symbol(f"A{l}", real=True),
                          form.y: sp.Symbol("Y", real=True)})


def _flat_source(net: Network) -> str:
    """One scalar expression per parameter (plain ``sympy.diff``), averaged per batch."""
    grads = gradients(net, "loss", method="diff")
    lines = ["def kernel(params, X, Y):", "    m = X.shape[0]"]
    for i, p in enumerate(net.parameters):
        lines.append(f"    {p} = params[{i}]")
    for k, x in enumerate(net.inputs):
        lines.append(f"    {x} = X[:, {k}]")
    for j, t in enumerate(net.targets):
        lines.append(f"    {t} = Y[:, {j}]")
    outs = ["_loss"] + [f"_g{i}" for i in range(len(grads))]
    _emit(lines, outs, [net.loss] + list(grads.values()))
    means = ", ".join(f"_mean({o}, m)" for o in outs[1:])
    lines.append(f"    return _mean(_loss, m), numpy.array([{means}], dtype=float)")
    return "\n".join(lines) + "\n"


def _mean(values, m):
    """Mean over the batch of an expression that may not depend on the batch."""
    return float(np.sum(np.broadcast_to(values, (m,)))) / m


_erf = np.vectorize(math.erf, otypes=[float])


def _build(source: str, label: str):
    filename = f"<symgrad-generated-{label}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"numpy": np, "_mean": _mean, "_erf": _erf}
    exec(compile(source, filename, "exec"), namespace)  # our own generated code
    return namespace["kernel"]


def compile_numpy(net: Network, method: str = "reverse") -> CompiledGradient:
    """Compile ``net``'s cost gradient into vectorised numpy code (see
    :func:`symgrad.compile_gradients`, which validates the arguments)."""
    source = _layer_source(net) if method == "reverse" else _flat_source(net)
    return CompiledGradient(net, _build(source, net.spec.arch), source, "numpy", method)
