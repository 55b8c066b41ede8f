"""Native gradients: the reverse-mode program compiled with numba into one loop.

:func:`compile_numba` prints the symbolic reverse-mode program of
:func:`symgrad.derive.reverse_program` as Python code and compiles it with numba
into a kernel that walks over the samples once, a block of samples at a time:
the forward pass, the loss and the backward pass of a block live in small local
arrays (one row per neuron, one column per sample, so the loops over samples
run in SIMD lanes), and the block adds the cost and every gradient entry to
running sums.  No ``(m, width)`` arrays and no per-sample gradients are ever
stored, so ``X`` and ``y`` are read once.

The generated code (see :mod:`symgrad.backends.numba.source`) has that stacked
shape (loops over layers and neurons, so it compiles in the same time whatever
the network's size) for networks with more than
:data:`~symgrad.backends.numba.source.UNROLL_MAX` parameters; smaller ones get
a fused loop (every statement of the program unrolled, vectorised across
samples by LLVM).

Samples are cut into chunks of :data:`CHUNK` rows; each chunk sums into its own
row of a partial-sum array and the rows are added in order at the end.  For
large batches contiguous runs of chunks go to :func:`threads` threads (the
kernel releases the GIL); the chunking depends only on ``m``, so the result is
bitwise the same for any thread count.

Caching (:mod:`symgrad.backends.numba.cache`): the generated module is written to
:func:`cache_dir` under a name that hashes the network spec, the generator's
constants and code, the program it prints, and the symgrad, numba, numpy, SymPy
and Python versions, and is compiled with ``cache=True``, so a second process
loads machine code from disk.  Cache directories and kernel files are used only
when they belong to the current user and are not writable by group or others.

Warning: the generated module is imported (executed).  It is built only from the
network spec and SymPy's printer, never from user text.

>>> import numpy as np
>>> from symgrad import Network
>>> f = compile_numba(Network([2, 2, 1]))
>>> cost, grad = f(np.ones(6), np.array([[1.0, 2.0]]), np.array([1.0]))
>>> cost, grad.tolist()
(12.5, [5.0, 10.0, 5.0, 10.0, 15.0, 15.0])
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba  # ImportError here means the 'fast' extra is missing
import numpy as np

from symgrad.backends.base import METHODS, CompiledGradient
from symgrad.backends.numba.cache import cache_dir, load
from symgrad.backends.numba.source import CHUNK
from symgrad.errors import ShapeError, SpecError, SpecTypeError, SymgradError
from symgrad.network import Network
from symgrad.spec import check_batch, choices_message

__all__ = ["CHUNK", "PARALLEL_WORK", "NumbaGradient", "cache_dir", "compile_numba", "threads"]

#: Run chunks in parallel threads when m * (parameters + 1) is at least this (and
#: there are at least two chunks).
PARALLEL_WORK = 1 << 16
_F8 = np.dtype(np.float64)
_pool: list[ThreadPoolExecutor] = []        # made on the first parallel call
_pool_lock = threading.Lock()


def threads() -> int:
    """Threads a large batch runs on: ``NUMBA_NUM_THREADS`` (default: the CPU count)."""
    return max(1, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))


def _executor() -> ThreadPoolExecutor:
    with _pool_lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max_workers=max(1, threads() - 1),
                                            thread_name_prefix="symgrad-numba"))
        return _pool[0]


class NumbaGradient(CompiledGradient):
    """:class:`~symgrad.backends.numpy.CompiledGradient` running a numba kernel.

    ``f(params, X, y)`` validates and converts like the numpy backend (float64
    C-contiguous arrays of the right shapes go straight through);
    ``f.raw(params, X, Y)`` converts nothing and only checks (see :meth:`raw`).
    """

    def __init__(self, net, module, method):
        super().__init__(net, self._serial, module.source, "numba", method)
        self.cache_path = module.cache_path
        self._run_serial = module.run_serial
        self._scratch_shape = (module.SCRATCH_ROWS, module.BLOCK)
        self._local = threading.local()       # each thread's scratch array
        self._shape = (net.spec.n_parameters, net.spec.n_inputs, net.spec.n_outputs)
        self._parallel_rows = max(2 * CHUNK, PARALLEL_WORK // (self._shape[0] + 1))
        # L2, (lambda/2) sum p**2 over the first n parameters: added once per batch
        self._l2 = (net.spec.l2, len(list(net.spec.penalised)))

    def _chunks(self, params, X, Y, c0, c1, out):
        """Chunks ``c0`` to ``c1 - 1`` in this thread, with this thread's scratch array."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = np.empty(self._scratch_shape)
        self._run_serial(params, X, Y, c0, c1, out, scratch)

    def _serial(self, params, X, Y):
        """Every chunk in this thread; the rows of partial sums added in order."""
        m = X.shape[0]
        n = (m + CHUNK - 1) // CHUNK
        out = np.empty((n, self._shape[0] + 1))
        self._chunks(params, X, Y, 0, n, out)
        return _finish(out, m, params, self._l2)

    def _parallel(self, params, X, Y):
        """The chunks split into contiguous runs, one per thread (this one included).

        Each chunk sums into its own row, and the rows are added in order at the
        end, so the result is bitwise that of :meth:`_serial` for any thread count.
        The kernel releases the GIL (``nogil``), so the threads run at once.
        """
        m = X.shape[0]
        n = (m + CHUNK - 1) // CHUNK
        out = np.empty((n, self._shape[0] + 1))
        parts = min(threads(), n)
        bounds = [n * t // parts for t in range(parts + 1)]
        pool = _executor() if parts > 1 else None
        jobs = [pool.submit(self._chunks, params, X, Y, bounds[t], bounds[t + 1], out)
                for t in range(1, parts)] if pool else []
        self._chunks(params, X, Y, bounds[0], bounds[1], out)
        for job in jobs:
            job.result()
        return _finish(out, m, params, self._l2)

    def __call__(self, params, X, y):
        P, n, k = self._shape
        # Cheap check first: float64 ndarrays of the right shapes go straight in
        # (numba itself rejects other layouts with a TypeError); all else, and
        # every error message, goes through spec.check_batch like the numpy backend.
        if (type(params) is np.ndarray and type(X) is np.ndarray and type(y) is np.ndarray
                and params.dtype is _F8 and X.dtype is _F8 and y.dtype is _F8
                and params.shape == (P,) and X.ndim == 2 and X.shape[1] == n
                and X.shape[0] > 0):
            m = X.shape[0]
            if k == 1 and y.shape == (m,):
                y = y.reshape(m, 1)
            if y.shape == (m, k):
                try:
                    return self._run(params, X, y)
                except TypeError:       # not C-contiguous: copy below
                    pass
        params, X, Y = check_batch(self.net.spec, params, X, y)
        return self._run(*(np.ascontiguousarray(a) for a in (params, X, Y)))

    def raw(self, params, X, Y):
        """``(cost, grad)`` with no conversion: the fastest call.

        ``params`` must be a C-contiguous float64 array of shape (P,), ``X`` one of
        shape (m, n_inputs) and ``Y`` one of shape (m, n_outputs), m >= 1 (``Y`` is
        2-D even with one output).  The shapes are checked with a few integer
        comparisons (about 0.1 us) and numba's dispatch checks dtype and layout, so
        the kernel never reads past an array: a wrong shape raises
        :class:`~symgrad.errors.ShapeError`; a value that is not a numpy array,
        another dtype or a non-contiguous layout raises
        :class:`~symgrad.errors.SpecTypeError` (a ``TypeError``).  ``f(params, X, y)``
        accepts and converts all of those.
        """
        P, n, k = self._shape
        try:
            m, n_x = X.shape
            m_y, k_y = Y.shape
            ok = len(params) == P and n_x == n and m_y == m and k_y == k and m > 0
        except (AttributeError, TypeError, ValueError):   # not an array, or wrong ndim
            ok = False
        if ok:
            try:
                if m >= self._parallel_rows:
                    return self._parallel(params, X, Y)
                return self.kernel(params, X, Y)
            except (TypeError, ValueError):    # numba found no matching dtype/layout
                error = self._refusal(params, X, Y)
                if error is None:
                    raise
                raise error from None
        raise self._refusal(params, X, Y) or ShapeError("f.raw: refused its arguments")

    def _run(self, params, X, Y):
        """The kernel on checked arrays: the parallel driver for large batches."""
        if X.shape[0] >= self._parallel_rows:
            return self._parallel(params, X, Y)
        return self.kernel(params, X, Y)

    def _refusal(self, params, X, Y) -> SymgradError | None:
        """The one-line error for arguments that :meth:`raw` does not take, if any."""
        P, n, k = self._shape
        fix = "f(params, X, y) converts it"
        for name, value in (("params", params), ("X", X), ("Y", Y)):
            if not isinstance(value, np.ndarray):
                return SpecTypeError(f"f.raw: {name} is a {type(value).__name__}, not a numpy "
                                     f"array; {fix}")
            if value.dtype != _F8:
                return SpecTypeError(f"f.raw: {name} has dtype {value.dtype}, not float64; {fix}")
        if params.shape != (P,):
            return ShapeError(f"f.raw: params has shape {params.shape}; the "
                              f"{self.net.spec.arch} network needs ({P},)")
        if X.ndim != 2 or X.shape[1] != n or X.shape[0] == 0:
            return ShapeError(f"f.raw: X has shape {X.shape}; it needs (m, {n}) with m >= 1")
        m = X.shape[0]
        if Y.shape != (m, k):
            hint = f" ({fix} from shape ({m},))" if k == 1 else ""
            return ShapeError(f"f.raw: Y has shape {Y.shape}; with {m} samples it needs "
                              f"({m}, {k}){hint}")
        for name, value in (("params", params), ("X", X), ("Y", Y)):
            if not value.flags.c_contiguous:
                return SpecTypeError(f"f.raw: {name} is not C-contiguous; pass "
                                     f"np.ascontiguousarray({name}), or {fix}")
        return None


def _finish(out, m, params, l2):
    """``(cost, grad)`` from the rows of partial sums, added in row order, plus the L2
    penalty ``l2 = (lambda, n)`` of the first n parameters."""
    total = out.sum(axis=0)         # over the rows, one after another: a fixed order
    cost, grad = float(total[0]) / m, total[1:] / m
    lam, n = l2
    if lam:
        p = params[:n]
        cost += 0.5 * lam * float(p @ p)
        grad[:n] += lam * p
    return cost, grad


def compile_numba(net: Network, method: str = "reverse") -> NumbaGradient:
    """Compile ``net``'s exact cost gradient into a native numba kernel.

    Usually reached through ``compile_gradients(net, backend="numba")`` or
    ``backend="auto"``.  The first compile of a network takes seconds (numba and
    LLVM, about the same for any size of network); later processes load it from
    :func:`cache_dir` in a fraction of that.

    Parameters
    ----------
    net : Network
    method : {"reverse", "diff"}
        Print the reverse-mode program (default), or one ``sympy.diff``
        expression per parameter (always unrolled; an independent path for
        small networks).

    Returns
    -------
    NumbaGradient
        ``f(params, X, y) -> (cost, grad)`` exactly like the numpy backend's
        function, plus ``f.raw`` (no conversion, cheap checks) and ``f.cache_path``.

    Examples
    --------
    >>> import numpy as np
    >>> from symgrad import Network, compile_gradients
    >>> net = Network([2, 3, 1], activation="tanh", bias=True)
    >>> f = compile_numba(net)
    >>> rng = np.random.default_rng(0)
    >>> p, X, y = rng.normal(size=13), rng.normal(size=(50, 2)), rng.normal(size=50)
    >>> g_numpy = compile_gradients(net)(p, X, y)[1]
    >>> np.allclose(f(p, X, y)[1], g_numpy, rtol=1e-12, atol=0)
    True
    """
    if not isinstance(net, Network):
        raise SpecError(f"compile_numba needs a Network, got {type(net).__name__}")
    if method not in METHODS:
        raise SpecError(choices_message("method", method, METHODS))
    return NumbaGradient(net, load(net, method), method)
