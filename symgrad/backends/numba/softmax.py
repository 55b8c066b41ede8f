"""The softmax output in numba kernels: max subtraction, a branch-free exp, log-sum-exp.

A softmax layer couples its neurons, so the kernel shapes cannot print it one
neuron at a time like an elementwise activation.  Each shape calls the emitter
here for its output layer instead; the rest of the kernel is unchanged:

* ``_top = max_k z{L}{k}``, ``e_j = exp(z{L}{j} - _top)`` (at most 1: no overflow;
  by the runtime's branch-free ``_exp_negative``, clamped at -700, so the loops
  still vectorise), ``_sum = sum_j e_j``, ``a{L}{j} = e_j / _sum``;
* ``_lse = _top + log(_sum)`` = log sum_k exp(z{L}{k}), so the cross-entropy of
  each neuron, ``-y_j log a{L}{j} = -y_j (z{L}{j} - _lse)``, stays finite even
  where ``a{L}{j}`` underflows to 0 (:func:`neuron_loss`);
* the top adjoint ``delta{L}{j} = a{L}{j} - y_j`` is printed from the program, as
  for every other output.
"""

from __future__ import annotations

import sympy as sp

from symgrad.backends.numba.emit import Emitter, KernelLayout
from symgrad.network import loss_expr

#: log sum_k exp(z{L}{k}) of the sample, named in the generated code.
LSE = sp.Symbol("_lse", real=True)
#: The lower clamp of ``z - max`` before the exp (exp(-700) is about 1e-304).
_FLOOR = "-700.0"


def is_softmax(layout: KernelLayout) -> bool:
    """Whether the output layer of ``layout`` is a softmax."""
    return layout.activation[layout.depth] == "softmax"


def neuron_loss(layout: KernelLayout, a: sp.Expr, z: sp.Expr, y: sp.Expr) -> sp.Expr:
    """One output neuron's loss term in the kernel: ``-y (z - _lse)`` for softmax."""
    if is_softmax(layout):
        return -y * (z - LSE)
    return loss_expr(layout.net.loss_name, [a], [y])


def softmax_scalars(e: Emitter, zs: list[str], outs: list[str]) -> None:
    """Emit the softmax of the scalars ``zs`` into ``outs``, and ``_lse``."""
    e.line(f"_top = max({', '.join(zs)})")
    e.line(*(f"{a} = _exp_negative(max({z} - _top, {_FLOOR}))" for z, a in zip(zs, outs)))
    e.line(f"_sum = {' + '.join(outs)}", "_lse = _top + math.log(_sum)", "_inv = 1.0 / _sum")
    e.line(*(f"{a} = {a} * _inv" for a in outs))


def softmax_block(e: Emitter, width: str, z: str, a: str, sm: str) -> None:
    """Emit the softmax of a block: rows ``0 .. width-1`` of ``z`` into those of ``a``.

    ``z`` and ``a`` are element templates in the row ``{j}`` and the sample ``s``
    (``"S[zr + {j}, s]"``); every step is a loop over the block's ``nv`` samples.
    ``sm``, a template in ``{i}`` and ``s``, names 3 rows: each sample's max, then
    1/sum, and ``_lse`` in row 2.
    """
    top, inv, lse = (sm.format(i=i) for i in range(3))
    zj, aj = z.format(j="j"), a.format(j="j")
    with e.block("for s in range(nv):"):
        e.line(f"{top} = {z.format(j=0)}", f"{inv} = 0.0")
    with e.block(f"for j in range(1, {width}):"), e.block("for s in range(nv):"):
        e.line(f"{top} = max({top}, {zj})")
    with e.block(f"for j in range({width}):"), e.block("for s in range(nv):"):
        e.line(f"_e = _exp_negative(max({zj} - {top}, {_FLOOR}))", f"{aj} = _e", f"{inv} += _e")
    with e.block("for s in range(nv):"):
        e.line(f"{lse} = {top} + math.log({inv})", f"{inv} = 1.0 / {inv}")
    with e.block(f"for j in range({width}):"), e.block("for s in range(nv):"):
        e.line(f"{aj} = {aj} * {inv}")
