"""``backend="auto"`` for a known amount of work: numpy or numba, whichever finishes first.

numba's kernels are several times faster per call than the numpy backend, but
the first use of one costs seconds: importing numba and loading the kernel from
the cache (about :data:`NUMBA_WARM_START`), and, the first time a network is
seen, compiling it (about :data:`NUMBA_COMPILE`).  A small job (100 samples, 200
epochs) is over in a fraction of a second on numpy, long before numba would
have compiled; a large one (1e6 samples) pays the compile back in a few calls.

:func:`choose_backend` therefore estimates both totals for the work in view,
a list of ``(calls, rows)`` pairs:

- numpy: measured, not guessed.  The numpy backend is compiled anyway (it takes
  milliseconds) and timed on the data and on its first rows, giving a fixed
  cost per call and a cost per row; the estimate is the sum over the work.
- numba: :data:`NUMBA_WARM_START` (plus :data:`NUMBA_COMPILE` of the kernel's
  shape when :func:`symgrad.backends.numba.cache.is_cached` finds no compiled
  kernel) plus :data:`NUMBA_PER_CALL` per call and :data:`NUMBA_PER_UNIT` per
  sample and parameter, figures measured on one core of the development
  machine (see ``docs/performance.md``) and rounded to numba's disadvantage,
  times :func:`cpu_share_slowdown` (a machine shared with other work stretches
  them).

numba is chosen only when its estimate is below :data:`MARGIN` times numpy's:
near the crossover both take about as long, and numpy's start is certain.  The
choice is made once, before the first step, so a run uses one backend from
start to finish (the two add in different orders, so switching in the middle
would make the last digits depend on timing).  The reason is kept for the report.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass

from symgrad.backends.base import CompiledGradient

#: Seconds to import numba and load a kernel that is already compiled and cached.
NUMBA_WARM_START = 1.0
#: Seconds of numba's first compile of a kernel, by code shape (on top of the start).
NUMBA_COMPILE = {"fused": 1.0, "stacked": 1.5}
#: Seconds per call of a numba kernel beyond its per-sample work.
NUMBA_PER_CALL = 5e-6
#: Seconds per sample and (parameter + 1) of a numba kernel, one thread.
NUMBA_PER_UNIT = 0.3e-9
#: numba must be estimated below this fraction of numpy's time to be chosen.
MARGIN = 0.8
#: Rows of the small batch the numpy backend is timed on (besides the whole data).
PROBE_ROWS = 32
#: Data of at most this many rows are timed twice (the faster call counts).
SMALL_BATCH = 4096

Work = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Choice:
    """The backend ``auto`` picked, and why (one line for reports)."""

    backend: str
    reason: str


def _seconds(f: CompiledGradient, params, X, Y, calls: int) -> float:
    """The fastest of ``calls`` timed calls."""
    best = float("inf")
    for _ in range(calls):
        start = time.perf_counter()
        f(params, X, Y)
        best = min(best, time.perf_counter() - start)
    return best


def numpy_seconds(f: CompiledGradient, params, X, Y, work: Work) -> float:
    """Estimated seconds of ``work`` on the numpy backend ``f``, timed on ``X``.

    One call on all of ``X`` (two when it is small; a large batch costs more per
    row than a slice of it that fits in the caches, so it is timed whole) and
    two on its first :data:`PROBE_ROWS` rows give a cost per row and per call.
    """
    big, small = len(X), min(len(X), PROBE_ROWS)
    t_big = _seconds(f, params, X, Y, 2 if big <= SMALL_BATCH else 1)
    t_small = _seconds(f, params, X[:small], Y[:small], 2) if small < big else t_big
    per_row = max(t_big - t_small, 0.0) / (big - small) if big > small else t_big / big
    fixed = max(t_small - small * per_row, 0.0)
    return sum(calls * (fixed + rows * per_row) for calls, rows in work)


def cpu_share_slowdown(seconds: float = 0.01) -> float:
    """How many times longer than its CPU time a Python loop takes here now (1 to 8).

    On a machine shared with other work a process gets part of a core, and
    numba's compile (mostly Python) and its kernels stretch with it; the numpy
    backend is timed, so its estimate already includes this.  Measured as wall
    time over CPU time of a short busy loop (``seconds`` of CPU).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    spin = 0
    while time.process_time() - cpu < seconds:
        spin += 1
    ratio = (time.perf_counter() - wall) / max(time.process_time() - cpu, 1e-9)
    return min(8.0, max(1.0, ratio))


def numba_seconds(n_parameters: int, work: Work, start: float) -> float:
    """Estimated seconds of ``work`` on a numba kernel, ``start`` seconds to get it
    (quiet-machine figures; see :func:`cpu_share_slowdown`)."""
    unit = NUMBA_PER_UNIT * (n_parameters + 1)
    return start + sum(calls * (NUMBA_PER_CALL + rows * unit) for calls, rows in work)


def _numba_start(net) -> tuple[float, str]:
    """Seconds before numba's first call, and what they are for."""
    from symgrad.backends.numba import cache, source

    if cache.is_cached(net, "reverse"):
        return NUMBA_WARM_START, "its kernel is cached"
    shape = "fused" if net.spec.n_parameters <= source.UNROLL_MAX else "stacked"
    return (NUMBA_WARM_START + NUMBA_COMPILE[shape],
            f"its kernel must be compiled first, about {NUMBA_COMPILE[shape]:g} s")


def choose_backend(net, f_numpy: CompiledGradient, params, X, Y, work: Work) -> Choice:
    """numpy or numba for ``work`` (``(calls, rows)`` pairs) on data ``X``, ``Y``.

    ``f_numpy`` is the network's numpy backend, timed on the data (one to four
    calls, see :func:`numpy_seconds`); see the module notes for the rule.

    Examples
    --------
    >>> import numpy as np
    >>> from symgrad import Network, compile_gradients
    >>> net = Network([2, 2, 1])
    >>> X, Y = np.ones((10, 2)), np.ones((10, 1))
    >>> choice = choose_backend(net, compile_gradients(net), np.ones(6), X, Y, [(5, 10)])
    >>> choice.backend       # five calls on ten samples: numba's start never pays off
    'numpy'
    """
    if importlib.util.find_spec("numba") is None:
        return Choice("numpy", "auto: numba is not installed")
    t_np = numpy_seconds(f_numpy, params, X, Y, work)
    stretch = cpu_share_slowdown()
    best = stretch * numba_seconds(net.spec.n_parameters, work, NUMBA_WARM_START)
    if best >= MARGIN * t_np:                  # loses even with a cached kernel
        return Choice("numpy", f"auto: numpy, estimated {t_np:.2g} s against numba's "
                               f"{best:.2g} s at best (importing numba and loading its "
                               "kernel take about a second)")
    start, why = _numba_start(net)
    t_nb = stretch * numba_seconds(net.spec.n_parameters, work, start)
    if t_nb < MARGIN * t_np:
        return Choice("numba", f"auto: numba, estimated {t_nb:.2g} s against numpy's "
                               f"{t_np:.2g} s ({why})")
    return Choice("numpy", f"auto: numpy, estimated {t_np:.2g} s against numba's "
                           f"{t_nb:.2g} s ({why})")


def training_work(m: int, epochs: int, batch_size: int | None) -> list[tuple[int, int]]:
    """``(calls, rows)`` of a training run: every step, and the cost after every epoch.

    >>> training_work(100, 200, None), training_work(100, 10, 30)
    ([(201, 100)], [(30, 30), (10, 10), (11, 100)])
    """
    full = [(epochs + 1, m)]
    if batch_size is None or batch_size >= m:
        return full
    whole, rest = divmod(m, batch_size)
    return [(epochs * whole, batch_size)] + ([(epochs, rest)] if rest else []) + full
