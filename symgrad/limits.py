"""Limits: the caps symgrad puts on its inputs, on memory and on symbolic work.

Each limit is a constant here, next to what it protects and why it has its value.
The code that enforces a limit imports it from here; the command line checks all
it can before any work starts (:func:`symgrad.cli.options.estimate_cost`), so a
hopeless request is refused in a fraction of a second with one line that names
the limit and the way forward, instead of running for hours or eating the memory.

This module imports only :mod:`symgrad.spec` (for :data:`MAX_WIDTH`).

Symbolic size
-------------
The exact derivatives in base symbols (the *expanded* form) are sums over every
path through the network, so their printed size multiplies with the widths
layer by layer: 2-2-2-2-2-2-2-2-2-1 has derivatives of 459,133 symbols and
operations, 2-2-...-2-1 with 20 hidden layers about 10**13.  :func:`derivative_size`
estimates that size from the architecture alone (it is within a factor of about
3 of the real count on the nets the tests measure) without building anything.
The compact and delta forms (tables, derivations) do not have this problem: they
name the shared parts, so they grow with the number of parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from symgrad.spec import MAX_WIDTH  # noqa: F401  (listed here too)

#: (:data:`MAX_WIDTH`: the widest layer an architecture may ask for, defined in
#: :mod:`symgrad.spec`, which the independent references share and which imports
#: nothing but the errors.)

#: Largest CSV file ``train --data`` reads (bytes, 100 MiB), checked with ``stat``
#: before reading: more text than that holds more numbers than :data:`MAX_DATA_CELLS`.
MAX_DATA_BYTES = 100 * 2**20
#: Most numbers a data set may hold, and most samples x neurons (all widths) a
#: network is trained on: each array of activations then stays under about 80 MB,
#: and the whole run under about 1 GB.  The same rule as ``train --synthetic``.
MAX_DATA_CELLS = 10**7

#: Most epochs one ``train`` command runs.  Every epoch is at least one pass over
#: the data and a few microseconds of overhead: 10**9 epochs is already days.
MAX_EPOCHS = 10**9
#: Most ``epochs x samples x parameters`` one ``train`` command runs: at a few
#: nanoseconds per multiply-add, 10**12 is about an hour.
MAX_TRAIN_WORK = 10**12
#: Most points of the cost history a training result keeps.  Past it the record is
#: thinned evenly (every other point dropped, the first and the last kept), so the
#: memory of a run does not grow with its length; the epoch count stays exact.
MAX_COST_POINTS = 10_000

#: Largest estimated size (symbols and operations, :func:`derivative_size`) of one
#: expanded derivative that ``verify`` and ``compare`` start on, and of a whole
#: expanded table (:func:`table_size`).  Checking a claim walks that expression at
#: a dozen points: about 50 microseconds per node, so 2,000,000 is a couple of minutes.
MAX_SYMBOLIC_SIZE = 2_000_000
#: Most activation patterns a proof by case analysis examines (``verify`` on ReLU
#: nets): each is one exact comparison of two polynomials, a few milliseconds on a
#: three-layer net, so 1024 patterns (10 kinks a claim can tell apart) is seconds.
#: Past it the claim is not proved (its verdict rests on random points).
MAX_PATTERNS = 1024
#: Most patterns times tree nodes (of the two sides) that case analysis rewrites and
#: compares: about 3 microseconds per node and pattern (measured on 2-3-3-3-1 and
#: 3-5-5-2 ReLU), so 10**6 stops it within a few seconds, well inside ``verify``'s
#: default 10 s budget; the claim keeps its verdict from random points.
MAX_CASE_WORK = 10**6

#: Nodes an activation adds around ``z`` (``tanh(z)``: 1; the sigmoid's
#: ``1/(1 + exp(-z))``: 5), and nodes of its derivative beyond ``a`` (``1 - a**2``).
_ACTIVATION_NODES = 3
_DERIVATIVE_NODES = 6


def _forward_sizes(widths: Sequence[int], activations: Sequence[str], bias: bool) -> list:
    """Estimated tree size of one neuron's activation ``a{l}`` in base symbols, per layer."""
    sizes = [1]
    for l in range(1, len(widths)):
        n = widths[l - 1]
        z = n * (2 + sizes[-1]) + (1 if n > 1 or bias else 0) + (1 if bias else 0)
        if activations[l - 1] == "softmax":     # exp(z_j) / (exp(z_1) + ... + exp(z_K))
            sizes.append(widths[l] * (z + 2) + z + 4)
        else:
            sizes.append(z + (0 if activations[l - 1] == "linear" else _ACTIVATION_NODES))
    return sizes


def _row_sizes(widths: Sequence[int], activations: Sequence[str], bias: bool,
               of: str) -> list:
    """Estimated size of the expanded derivative by a weight of each layer (index l - 1)."""
    L = len(widths) - 1
    a = _forward_sizes(widths, activations, bias)
    delta = a[L] + 4 if of == "loss" else 1
    if activations[L - 1] != "linear":
        delta += a[L] + _DERIVATIVE_NODES
    rows = [0] * L
    for l in range(L, 0, -1):
        if l < L:
            n = widths[l + 1]
            delta = n * (2 + delta) + (1 if n > 1 else 0)
            if activations[l - 1] != "linear":
                delta += a[l] + _DERIVATIVE_NODES
        rows[l - 1] = delta + a[l - 1] + 1
    return rows


def derivative_size(widths: Sequence[int], activations: Sequence[str], bias: bool = False,
                    of: str = "output") -> int:
    """Estimated size of the largest expanded derivative of ``of`` ("output" or "loss").

    Counted like :func:`symgrad.derive.tree_size`: every symbol, number and
    operation, shared parts each time they appear.

    >>> derivative_size([2, 2, 1], ["linear", "linear"])   # d z21/d w211 = z11: 8 nodes
    9
    >>> derivative_size([2] + [2] * 20 + [1], ["linear"] * 21) > 10**6
    True
    """
    return max(_row_sizes(widths, activations, bias, of))


def table_size(widths: Sequence[int], activations: Sequence[str], bias: bool = False,
               of: str = "output") -> int:
    """Estimated size of a whole expanded table: every parameter's derivative."""
    rows = _row_sizes(widths, activations, bias, of)
    total = sum(widths[l] * widths[l - 1] * rows[l - 1] for l in range(1, len(widths)))
    return total + (sum(widths[l] * rows[l - 1] for l in range(1, len(widths))) if bias else 0)
