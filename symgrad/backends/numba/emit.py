"""Writing generated code: an emitter of indented lines, and the layout kernels share.

The kernel generators (:mod:`~symgrad.backends.numba.unrolled`,
:mod:`~symgrad.backends.numba.stacked`)
write every statement through an :class:`Emitter`, which owns the indentation:
a loop body is whatever is emitted inside ``with e.block("for ...:")``.  Every
statement is printed in its final form (array indexing included); nothing
rewrites the generated text afterwards.

>>> e = Emitter()
>>> with e.block("def f(n):"):
...     e.line("s = 0")
...     with e.block("for i in range(n):"):
...         e.line("s += i")
...     e.line("return s")
>>> print(e.text(), end="")
def f(n):
    s = 0
    for i in range(n):
        s += i
    return s
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sympy as sp

from symgrad.derive import ReverseProgram, reverse_program
from symgrad.layerwise import LayerFormulas, layer_formulas
from symgrad.network import Network


class Emitter:
    """Lines of Python source and the indentation level of the next one."""

    #: One level of indentation.
    INDENT = "    "

    def __init__(self, level: int = 0):
        self.level = level
        self.lines: list[str] = []

    def line(self, *texts: str) -> None:
        """Append each of ``texts`` as one line at the current indentation."""
        for text in texts:
            self.lines.append(self.INDENT * self.level + text if text else "")

    def blank(self, count: int = 1) -> None:
        """Append ``count`` empty lines."""
        self.lines.extend([""] * count)

    @contextmanager
    def block(self, header: str) -> Iterator[Emitter]:
        """Emit ``header`` (``"for s in range(n):"``) and indent what the block emits."""
        self.line(header)
        self.level += 1
        try:
            yield self
        finally:
            self.level -= 1

    def text(self) -> str:
        """The source so far, one line each, ending in a newline."""
        return "".join(line + "\n" for line in self.lines)


#: The decorator of a kernel's entry point ``run_serial(params, X, Y, c0, c1, out, S)``:
#: compiled when the module is imported (the signature is given), cached on disk.
#: It runs chunks ``c0`` to ``c1 - 1`` of the samples in the calling thread, chunk
#: ``c`` summing into ``out[c]``; the backend adds the rows in order.  ``S`` is the
#: calling thread's scratch array, ``(SCRATCH_ROWS, BLOCK)`` (the module says how
#: many rows; none for the unrolled shapes): handed in rather than made by
#: ``np.empty`` in the kernel, because numba compiles its array constructors for
#: a good part of a second in every new process.
ENTRY = ("@njit('(float64[::1], float64[:, ::1], float64[:, ::1], int64, int64, "
         "float64[:, ::1], float64[:, ::1])', cache=True, fastmath={fastmath}, "
         "error_model='numpy', nogil=True)")


@contextmanager
def entry_point(e: Emitter, fastmath: str = "False", scratch_rows: int = 0) -> Iterator[None]:
    """Emit ``SCRATCH_ROWS`` and ``run_serial``'s header; the block emitted inside is its set-up."""
    e.line(f"SCRATCH_ROWS = {scratch_rows}")
    e.blank(2)
    e.line(ENTRY.format(fastmath=fastmath))
    with e.block("def run_serial(params, X, Y, c0, c1, out, S):"):
        yield


@contextmanager
def chunk_loop(e: Emitter) -> Iterator[None]:
    """Emit the loop over chunks: each pass sees ``start``, ``stop`` and its ``row``."""
    with e.block("for c in range(c0, c1):"):
        # a conditional, not min(): numba compiles min's implementation for each new process
        e.line("start = c * CHUNK",
               "stop = start + CHUNK if start + CHUNK < X.shape[0] else X.shape[0]",
               "row = out[c]")
        yield


@dataclass(frozen=True)
class KernelLayout:
    """What the kernel shapes share about one network.

    Layers are 1-based as in the docs (``w{l}{j}{k}``); the tuples indexed by
    layer hold ``None`` at index 0.  ``z``, ``a`` and ``y`` are the generic
    symbols that per-neuron formulas (activation, ``f'``, loss, top adjoint) are
    written in (:func:`symgrad.derive.layer_formulas`), so one formula serves
    every neuron of a layer in a loop.
    """

    net: Network
    #: ``"reverse"`` or ``"diff"``.
    method: str
    #: The per-layer formulas of the loss gradient.
    formulas: LayerFormulas
    widths: tuple
    depth: int
    bias: bool
    #: ``weight_offset[l]``: index of ``w{l}11`` in params (``net.spec.weight_slice(l).start``).
    weight_offset: tuple
    #: ``bias_offset[l]``: index of ``b{l}1`` in params (``None`` without biases).
    bias_offset: tuple
    #: ``activation[l]``: the activation name of layer ``l``.
    activation: tuple
    #: ``output[l]``: the array holding layer ``l``'s output (``A0`` is the input;
    #: a linear layer's output is its ``Z{l}``).
    output: tuple

    @classmethod
    def of(cls, net: Network, method: str = "reverse") -> KernelLayout:
        spec, L = net.spec, net.depth
        act = (None, *net.activations)
        return cls(
            net=net, method=method, formulas=layer_formulas(net),
            widths=tuple(net.widths), depth=L, bias=bool(net.bias),
            weight_offset=(None, *(spec.weight_slice(l).start for l in range(1, L + 1))),
            bias_offset=(None, *(spec.bias_slice(l).start if net.bias else None
                                 for l in range(1, L + 1))),
            activation=act,
            output=("A0", *(f"Z{l}" if act[l] == "linear" else f"A{l}"
                            for l in range(1, L + 1))))

    @property
    def z(self) -> sp.Symbol:
        return self.formulas.z

    @property
    def a(self) -> sp.Symbol:
        return self.formulas.a

    @property
    def y(self) -> sp.Symbol:
        return self.formulas.y

    @property
    def reverse(self) -> ReverseProgram:
        """The per-neuron reverse-mode program (unrolled kernels; none for ``method="diff"``)."""
        if self.method != "reverse":
            raise ValueError("a kernel of the diff method has no reverse-mode program")
        return reverse_program(self.net, "loss")

    def activation_of(self, l: int) -> sp.Expr:
        """``a = f(z)`` of layer ``l`` in the generic symbols."""
        return self.formulas.activation[l]

    def local_derivative(self, l: int) -> sp.Expr:
        """``f'(z)`` of layer ``l`` in the generic ``z`` and ``a``."""
        return self.formulas.derivative[l]

    def top_delta(self) -> sp.Expr:
        """The output layer's adjoint ``delta{L}{j}`` in the generic ``z``, ``a``, ``y``."""
        return self.formulas.top
