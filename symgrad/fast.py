"""Native gradients: the reverse-mode program compiled with numba into one loop.

:func:`compile_numba` prints the symbolic reverse-mode program of
:func:`symgrad.derive.reverse_program` as scalar Python code and compiles it with
numba into a kernel that walks over the samples once: for each sample it runs the
forward pass, the loss and the backward pass in local variables, and adds the
cost and every gradient entry to running sums.  No ``(m, width)`` arrays and no
per-sample gradients are ever stored, so a small network reads ``X`` and ``y``
once and is bound by memory bandwidth, not by numpy temporaries.

Two code shapes, one rule
-------------------------
* **Unrolled** (networks with at most :data:`UNROLL_MAX` parameters): every
  ``z``, ``a`` and ``delta`` of the program is one scalar statement, CSE'd with
  ``sympy.cse`` stage by stage (a layer's ``z``, its ``a``, the loss with the top
  adjoints, each lower layer's adjoints, the gradients); every gradient has its
  own scalar accumulator.
* **Looped** (larger networks): straight-line code grows with the number of
  weights and numba's compile time with it, so each layer becomes small loops
  over local arrays.  The per-neuron formulas (activation, ``f'(z)``, loss, top
  adjoint) are still printed from the program's expressions; the sums over
  neurons, ``sum_k w{l}{j}{k} a{l-1}{k}`` forward and ``sum_j w{l+1}{j}{k}
  delta{l+1}{j}`` backward, become the loops.

Samples are cut into chunks of :data:`CHUNK` rows; each chunk sums into its own
row of a partial-sum array and the rows are added in order at the end.  Chunks
run in parallel (``numba.prange``) for large batches and serially for small ones;
the chunking depends only on ``m``, so the result is bitwise the same for any
thread count.

Caching: the generated module is written to :func:`cache_dir` under a name that
hashes the network spec, the code of this generator and of the program it prints,
and the numba, numpy, Python and symgrad versions, and is compiled with
``cache=True``, so a second process loads machine code from disk.

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

import functools
import hashlib
import importlib.util
import itertools
import os
import sys
import tempfile
from pathlib import Path

import numba  # noqa: F401  (ImportError here means the 'fast' extra is missing)
import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symgrad import derive, network
from symgrad.derive import delta_symbol, gradients, local_derivative, reverse_program
from symgrad.errors import SpecError
from symgrad.network import Network, activation_expr, loss_expr
from symgrad.numeric import CompiledGradient
from symgrad.spec import check_batch, choices_message

#: Largest parameter count compiled as unrolled scalar code (see the module notes).
UNROLL_MAX = 64
#: Samples per chunk: the unit of parallel work and of the partial sums.
CHUNK = 1024
#: Run chunks in parallel when m * (parameters + 1) is at least this.
PARALLEL_WORK = 1 << 16
_softplus = sp.Function("_softplus")
_loaded = {}


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


def _unrolled_chunk(net: Network, method: str) -> list:
    """The ``_chunk`` function of the unrolled kernel."""
    P = len(net.parameters)
    lines = ["@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)",
             "def _chunk(params, X, Y, start, stop, row):"]
    lines += [f"    {p} = params[{n}]" for n, p in enumerate(net.parameters)]
    lines += ["    _cost = 0.0"] + [f"    _g{n} = 0.0" for n in range(P)]
    lines.append("    for i in range(start, stop):")
    lines += _unrolled_body(net, method)
    lines.append("    row[0] = _cost")
    lines += [f"    row[{n + 1}] = _g{n}" for n in range(P)]
    return lines


def _looped_chunk(net: Network) -> list:
    """The ``_chunk`` function of the looped kernel: per-layer loops over small arrays."""
    prog, W, L = reverse_program(net, "loss"), net.widths, net.depth
    z, a, y = (sp.Symbol(n, real=True) for n in ("z", "a", "y"))
    tmp = (sp.Symbol(f"_t{i}") for i in itertools.count())
    index = {p: n for n, p in enumerate(net.parameters)}
    woff = [None] + [index[net.weight(l, 1, 1)] for l in range(1, L + 1)]
    boff = [None] + [index[net.biases[sum(W[1:l])]] if net.bias else None
                     for l in range(1, L + 1)]
    act = [None] + list(net.activations)
    A = ["A0"] + [f"Z{l}" if act[l] == "linear" else f"A{l}" for l in range(1, L + 1)]
    lines = ["@njit(cache=True, fastmath=False, error_model='numpy', nogil=True)",
             "def _chunk(params, X, Y, start, stop, row):",
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


_DRIVERS = '''
SIG = "(float64[::1], float64[:, ::1], float64[:, ::1])"


@njit(cache=True, error_model='numpy', nogil=True)
def _finish(out, m):
    total = np.zeros(P + 1)
    for c in range(out.shape[0]):      # fixed order: the same sum for any thread count
        for q in range(P + 1):
            total[q] += out[c, q]
    return total[0] / m, total[1:] / m


@njit(SIG, cache=True, parallel=True, error_model='numpy')
def run_parallel(params, X, Y):
    m = X.shape[0]
    n = (m + CHUNK - 1) // CHUNK
    out = np.empty((n, P + 1))
    for c in prange(n):
        _chunk(params, X, Y, c * CHUNK, min(m, (c + 1) * CHUNK), out[c])
    return _finish(out, m)


@njit(SIG, cache=True, error_model='numpy', nogil=True)
def run_serial(params, X, Y):
    m = X.shape[0]
    n = (m + CHUNK - 1) // CHUNK
    out = np.empty((n, P + 1))
    for c in range(n):
        _chunk(params, X, Y, c * CHUNK, min(m, (c + 1) * CHUNK), out[c])
    return _finish(out, m)
'''

_HEADER = '''"""symgrad numba kernel for the {describe} network ({shape}, {method} mode).

Generated by symgrad.fast from the reverse-mode program; do not edit.
"""
import math

import numpy as np
from numba import njit, prange

P = {P}
CHUNK = {CHUNK}


@njit(inline='always')
def _softplus(u):
    # log(1 + exp(u)) without overflow
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


@njit(inline='always')
def _tanh(z):
    # tanh in <= 3 ulp at about half the cost of libm's: Taylor series below 0.2
    # (the last term kept is < 1e-17 of the sum), (1 - e)/(1 + e) with
    # e = exp(-2|z|) above (no cancellation there: the result is > 0.19).
    u = abs(z)
    if u < 0.2:
        s = z * z
{poly}
        return z + z * s * p
    e = math.exp(-2.0 * u)
    return math.copysign((1.0 - e) / (1.0 + e), z)

'''


@functools.lru_cache(maxsize=1)
def _tanh_polynomial() -> str:
    """Horner lines for p(s) with tanh(z) = z + z*s*p(z*z), s = z*z (Taylor, 11 terms)."""
    z = sp.Symbol("z")
    series = sp.series(sp.tanh(z), z, 0, 24).removeO()
    coeffs = [float(series.coeff(z, 2 * k + 1)) for k in range(1, 12)]
    lines = [f"        p = {coeffs[-1]!r}"]
    lines += [f"        p = p * s + {c!r}" for c in reversed(coeffs[:-1])]
    return "\n".join(lines)


def kernel_source(net: Network, method: str = "reverse") -> str:
    """The Python source of the numba kernel module for ``net`` (not compiled)."""
    unrolled = method == "diff" or net.spec.n_parameters <= UNROLL_MAX
    chunk = _unrolled_chunk(net, method) if unrolled else _looped_chunk(net)
    head = _HEADER.format(describe=net.describe(), method=method, P=net.spec.n_parameters,
                          CHUNK=CHUNK, poly=_tanh_polynomial(),
                          shape="unrolled" if unrolled else "looped")
    return head + "\n".join(chunk) + "\n\n" + _DRIVERS


def cache_dir() -> Path:
    """Where kernels are cached: ``$SYMGRAD_CACHE_DIR``, ``$XDG_CACHE_HOME/symgrad``
    or ``~/.cache/symgrad``; a per-user temporary directory if that is not writable."""
    if os.environ.get("SYMGRAD_CACHE_DIR"):
        wanted = Path(os.environ["SYMGRAD_CACHE_DIR"])
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        wanted = Path(base) / "symgrad"
    fallback = Path(tempfile.gettempdir()) / f"symgrad-cache-{os.getuid()}"
    for where in (wanted, fallback):
        try:
            where.mkdir(parents=True, exist_ok=True)
            probe = where / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
            return where
        except OSError:
            continue
    return Path(tempfile.mkdtemp(prefix="symgrad-cache-"))


def _cache_key(net: Network, method: str) -> str:
    """Hash of everything the kernel depends on: spec, generator code, versions."""
    from symgrad import __version__

    h = hashlib.sha256(repr((net.spec, method, UNROLL_MAX, CHUNK)).encode())
    for module in (sys.modules[__name__], derive, network):
        h.update(Path(module.__file__).read_bytes())
    versions = (__version__, numba.__version__, np.__version__, sys.version)
    h.update(repr(versions).encode())
    return h.hexdigest()[:24]


def _load(net: Network, method: str):
    """Import (writing it first if needed) the kernel module of ``net``; return it."""
    key = _cache_key(net, method)
    if key in _loaded:
        return _loaded[key]
    where = cache_dir()
    path = where / f"symgrad_kernel_{key}.py"
    if not path.exists():
        source = kernel_source(net, method)
        part = where / f".{path.name}.{os.getpid()}.tmp"
        part.write_text(source)
        os.replace(part, path)                 # atomic: other processes see all or nothing
    spec = importlib.util.spec_from_file_location(f"symgrad_kernel_{key}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module            # numba's disk cache re-imports it by name
    spec.loader.exec_module(module)            # numba compiles, or loads its disk cache
    module.source = path.read_text()
    module.cache_path = path
    _loaded[key] = module
    return module


class NumbaGradient(CompiledGradient):
    """:class:`~symgrad.numeric.CompiledGradient` running a numba kernel.

    ``f(params, X, y)`` validates like the numpy backend (a cheap check passes
    float64 C-contiguous arrays of the right shapes straight through);
    ``f.raw(params, X, Y)`` skips all validation (see :meth:`raw`).
    """

    def __init__(self, net, module, method):
        super().__init__(net, module.run_serial, module.source, "numba", method)
        self.cache_path = module.cache_path
        self._parallel = module.run_parallel
        self._shape = (net.spec.n_parameters, net.spec.n_inputs, net.spec.n_outputs)
        self._parallel_rows = max(2 * CHUNK, PARALLEL_WORK // (self._shape[0] + 1))

    def __call__(self, params, X, y):
        P, n, k = self._shape
        if (type(params) is np.ndarray and type(X) is np.ndarray and type(y) is np.ndarray
                and params.dtype == X.dtype == y.dtype == np.float64
                and params.shape == (P,) and X.ndim == 2 and X.shape[1] == n
                and X.shape[0] > 0 and params.flags.c_contiguous
                and X.flags.c_contiguous and y.flags.c_contiguous):
            if y.shape == (X.shape[0], k):
                return self.raw(params, X, y)
            if k == 1 and y.shape == (X.shape[0],):
                return self.raw(params, X, y.reshape(-1, 1))
        params, X, Y = check_batch(self.net.spec, params, X, y)
        return self.raw(*(np.ascontiguousarray(a) for a in (params, X, Y)))

    def raw(self, params, X, Y):
        """``(cost, grad)`` with no validation: the fastest call.

        ``params`` must be a C-contiguous float64 (P,) array, ``X`` (m, n_inputs)
        and ``Y`` (m, n_outputs), m >= 1.  Wrong dtypes or layouts raise numba's
        TypeError; wrong shapes are NOT caught and read past the arrays.
        """
        if X.shape[0] >= self._parallel_rows:
            return self._parallel(params, X, Y)
        return self.kernel(params, X, Y)


def compile_numba(net: Network, method: str = "reverse") -> NumbaGradient:
    """Compile ``net``'s exact cost gradient into a native numba kernel.

    Usually reached through ``compile_gradients(net, backend="numba")`` or
    ``backend="auto"``.  The first compile of a network takes seconds (SymPy
    code generation plus numba/LLVM); later processes load it from
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
        function, plus ``f.raw`` (no validation) and ``f.cache_path``.

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
    if method not in ("reverse", "diff"):
        raise SpecError(choices_message("method", method, ("reverse", "diff")))
    return NumbaGradient(net, _load(net, method), method)
