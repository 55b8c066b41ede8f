"""Source code of symgrad's numba kernels, printed from the reverse-mode program.

:func:`kernel_source` returns the Python text of one kernel module for a network;
:mod:`symgrad.backends.numba.cache` writes it to the cache and imports it, and
:mod:`symgrad.backends.numba.backend` wraps it.  This module imports no numba, so
the generated code can be read and tested without it.

Code shapes
-----------
Every kernel module has one compiled entry point, ``run_serial(params, X, Y, c0,
c1, out)``: it runs chunks ``c0`` to ``c1 - 1`` of :data:`CHUNK` samples, chunk
``c`` summing into row ``c`` of ``out``
(:mod:`~symgrad.backends.numba.backend` adds the rows in order, and runs
several threads on contiguous runs of chunks for large batches).

* **Fused** (``method="reverse"`` kernels of networks with at most
  :data:`UNROLL_MAX` parameters): every ``z``, ``a`` and ``delta`` of the
  program is one scalar statement (below), in one loop over the samples with an
  unsigned index and ``X``, ``y`` read through flat views, compiled with
  ``fastmath={'reassoc'}`` and nothing else: LLVM may then split the running
  sums into SIMD lanes and vectorise the whole body across samples (tanh is
  branch-free).  The order of the additions depends only on the compiled code
  and the chunk's length: results stay deterministic.
* **Stacked** (``method="reverse"`` kernels of larger networks,
  :mod:`~symgrad.backends.numba.stacked`): samples go in blocks of
  :data:`BLOCK`, every layer's values in one scratch array ``S`` handed in by
  the caller (one row per neuron, one column per sample: no array is made in
  the kernel), and loops over layers and neurons read widths and offsets from
  constant tables, so the code is the same whatever the depth and width:
  numba's compile time does not grow with the network.  Weighted sums add up
  to :data:`GROUP` terms per pass over a block (then 4, then 1; one per pass
  for narrow networks) in the order of a plain loop; each gradient adds the block's
  ``sum_s delta a`` (a dot product, the only code compiled with
  ``fastmath={'reassoc'}``).  Sample indices are unsigned (numba then drops the
  negative-index wrap-around, which turns vector loads into gathers), and a
  block is padded to a multiple of :data:`LANES` with ``x = 0`` and
  ``delta = 0``, which add exact zeros.
* **Unrolled** (every ``method="diff"`` kernel): one scalar statement per
  program step as in the fused shape, reading ``X[i, k]``.

Statements are CSE'd with ``sympy.cse`` stage by stage (a layer's ``z``, its
``a``, the loss with the top adjoints, each lower layer's adjoints, the
gradients); every gradient of an unrolled or fused kernel has its own scalar
accumulator.

How the text is made: :class:`~symgrad.backends.numba.emit.KernelLayout` holds
what the shapes share (the per-layer formulas, widths, each layer's weight and
bias offsets from ``net.spec``, activations, output arrays); each shape's module
(:mod:`~symgrad.backends.numba.unrolled`, :mod:`~symgrad.backends.numba.stacked`)
writes its statements, final indexing included, through an
:class:`~symgrad.backends.numba.emit.Emitter` that owns the indentation, and
:mod:`~symgrad.backends.numba.printer` prints the formulas (``math.``
functions, ``_softplus``, the branch-free ``_tanh``: within 3 ulp of libm's
tanh, and in SIMD about 4x faster).  Nothing rewrites the text afterwards.
Numba compiles each library feature a kernel uses (an array slice assignment,
say) the first time a process needs it, for up to seconds, so the kernels use
little beyond indexing and arithmetic.

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

from symgrad.backends.numba.emit import Emitter, KernelLayout
from symgrad.backends.numba.runtime import HEADER as _HEADER
from symgrad.backends.numba.runtime import exp_polynomial as _exp_polynomial
from symgrad.backends.numba.runtime import tanh_polynomial as _tanh_polynomial
from symgrad.backends.numba.stacked import stacked_chunk
from symgrad.backends.numba.unrolled import fused_chunk, unrolled_chunk
from symgrad.network import Network

#: Largest parameter count compiled as unrolled scalar code (see the module notes).
UNROLL_MAX = 64
#: Samples per chunk: the unit of parallel work and of the partial sums.
CHUNK = 1024
#: Samples per block of the stacked kernel (a divisor of CHUNK, a multiple of LANES).
BLOCK = 128
#: Terms of a weighted sum added per pass over a block (stacked kernel).
GROUP = 4
#: SIMD lanes: sample blocks are padded to a multiple of this.
LANES = 8


def constants() -> dict:
    """The generator's constants as they are now (part of the cache key)."""
    return {"UNROLL_MAX": UNROLL_MAX, "CHUNK": CHUNK, "BLOCK": BLOCK, "GROUP": GROUP,
            "LANES": LANES}


def kernel_source(net: Network, method: str = "reverse") -> str:
    """The Python source of the numba kernel module for ``net`` (not compiled)."""
    layout = KernelLayout.of(net, method)
    e = Emitter()
    if method == "diff":
        unrolled_chunk(e, layout, method)
        shape = "unrolled"
    elif net.spec.n_parameters <= UNROLL_MAX:
        fused_chunk(e, layout)
        shape = "fused"
    else:
        stacked_chunk(e, layout, GROUP)
        shape = "stacked"
    head = _HEADER.format(describe=net.describe(), method=method, P=net.spec.n_parameters,
                          CHUNK=CHUNK, BLOCK=BLOCK, LANES=LANES,
                          poly=_tanh_polynomial(), exp_poly=_exp_polynomial(), shape=shape)
    return head + e.text()
