"""Gradient backends side by side: numba vs numpy backend vs hand-written backprop.

For the 2-2-1 (linear), 2-4-4-1 tanh and 4-16-16-1 tanh networks, all with
biases, at m = 1, 1e4 and 1e6 samples, times ``f(params, X, y) -> (cost, grad)``
for

* ``numba``     symgrad's native backend (``compile_gradients(net, backend="numba")``),
  and ``raw``, the same kernel without input validation (``f.raw``);
* ``numpy``     symgrad's numpy backend;
* ``backprop``  the hand-written numpy backprop (:func:`symgrad.references.backprop.backprop`);
* ``torch``     autograd on the CPU, and ``jax`` ``jit(value_and_grad)``, only if
  they are installed (symgrad does not need them).

Every figure is the median of interleaved repetitions (each repetition runs every
backend once, in turn), and the ratios come from the same run.  The memory
bandwidth is measured in the same run too (a numpy sum over an array the size of
X and y, median of repetitions); "floor" is the time to read X and y once at that
bandwidth and "of floor" is floor / numba time (1.0 = at the floor).

JIT cost: the first compile of each network (in a fresh process, empty cache)
and the cached compile (a second fresh process, same cache), both measured
around ``compile_gradients`` only, in subprocesses.

glibc hands out numpy temporaries above 128 KiB as fresh mmaps until its dynamic
threshold warms up, which makes the first runs of a process slower than later
ones.  The script re-executes itself with MALLOC_MMAP_THRESHOLD_ (32 MiB, the
largest glibc accepts), MALLOC_TRIM_THRESHOLD_ and MALLOC_TOP_PAD_ set so that
fresh and warm processes agree.  It also sets OPENBLAS_THREAD_TIMEOUT=4, so that
OpenBLAS's idle threads do not spin, after numpy's matrix products, on the cores
that the next backend in the interleaved run needs.

Run ``python benchmarks/bench_backends.py`` (a few minutes on 2 cores), or
``--quick`` for a smoke test (m up to 1e4, few repetitions, one compile timing).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20),
              "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
              "MALLOC_TOP_PAD_": str(256 << 20)}
# OpenBLAS's idle threads (numpy's matrix products) otherwise spin for about 0.1 s
# after every call on the cores that the next backend needs: they made the numba
# call after the hand backprop up to 6x slower.  (OpenMP's spinning after a numba
# call did not slow a following numpy call measurably; OMP_WAIT_POLICY=passive
# made numba's parallel calls at m = 1e4 three times slower, so it stays unset.)
THREAD_ENV = {"OPENBLAS_THREAD_TIMEOUT": "4"}
ENV = {**MALLOC_ENV, **THREAD_ENV}
if __name__ == "__main__" and any(k not in os.environ for k in ENV):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ENV})

import numpy as np  # noqa: E402

from symgrad import Network, compile_gradients  # noqa: E402
from symgrad.references.backprop import backprop  # noqa: E402

NETS = {"2-2-1": ([2, 2, 1], "linear"), "2-4-4-1 tanh": ([2, 4, 4, 1], "tanh"),
        "4-16-16-1 tanh": ([4, 16, 16, 1], "tanh")}


def timed(fn, calls: int) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(fns: dict, reps: int, calls: int) -> dict:
    """Median seconds per call of each function, repetitions interleaved."""
    for fn in fns.values():
        fn()                                          # warm up
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            times[name].append(timed(fn, calls))
    return {name: statistics.median(t) for name, t in times.items()}


def torch_gradient(net):
    """``f(params, X, y)`` with torch autograd, or None when torch is missing."""
    try:
        import torch
    except ImportError:
        return None
    from symgrad.references.backprop import unpack
    acts = {"linear": lambda z: z, "tanh": torch.tanh}

    def f(params, X, y):
        p = torch.tensor(params, requires_grad=True)
        a = torch.from_numpy(X)
        weights, biases = unpack(net.spec, p)
        for W, b, act in zip(weights, biases, net.spec.activations):
            a = acts[act](a @ W.T + b)
        cost = 0.5 * ((a[:, 0] - torch.from_numpy(y)) ** 2).mean()
        cost.backward()
        return float(cost), p.grad.numpy()
    return f


def jax_gradient(net):
    """``f(params, X, y)`` with ``jax.jit(jax.value_and_grad)``, or None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    from symgrad.references.backprop import unpack
    acts = {"linear": lambda z: z, "tanh": jnp.tanh}

    def cost(params, X, y):
        weights, biases = unpack(net.spec, params)
        a = X
        for W, b, act in zip(weights, biases, net.spec.activations):
            a = acts[act](a @ W.T + b)
        return 0.5 * jnp.mean((a[:, 0] - y) ** 2)
    vg = jax.jit(jax.value_and_grad(cost))

    def f(params, X, y):
        c, g = vg(params, X, y)
        return float(c), np.asarray(g)
    return f


def bandwidth(nbytes: int, reps: int) -> float:
    """Bytes per second of a numpy sum over ``nbytes`` of float64 (median)."""
    data = np.random.default_rng(1).random(max(nbytes, 1 << 27) // 8)
    return data.nbytes / interleaved({"sum": data.sum}, reps, 1)["sum"]


_COMPILE = """
import time
from symgrad import Network, compile_gradients
net = Network({widths}, activation={act!r}, bias=True)
t = time.perf_counter()
compile_gradients(net, backend="numba")
print(time.perf_counter() - t)
"""


def compile_costs(widths, act) -> tuple:
    """(first compile, cached compile) seconds, each in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMGRAD_CACHE_DIR": cache}
        code = _COMPILE.format(widths=widths, act=act)
        runs = [subprocess.run([sys.executable, "-c", code], env=env, check=True,
                               capture_output=True, text=True).stdout for _ in range(2)]
    return tuple(float(r.split()[-1]) for r in runs)


def bench_net(name, sizes, reps, bw):
    widths, act = NETS[name]
    net = Network(widths, activation=act, bias=True)
    f, g = compile_gradients(net, backend="numba"), compile_gradients(net)
    extra = {"torch": torch_gradient(net), "jax": jax_gradient(net)}
    rng = np.random.default_rng(0)
    params = rng.normal(size=net.spec.n_parameters) / 2
    print(f"\n{net.describe()}  ({f.source.splitlines()[0].split('(')[-1].split(',')[0]})")
    cols = ["numba", "raw", "numpy", "backprop"] + [k for k, v in extra.items() if v]
    print(f"{'m':>9} " + " ".join(f"{c:>11}" for c in cols)
          + f" {'bp/numba':>9} {'np/numba':>9} {'floor':>9} {'of floor':>8}")
    for m in sizes:
        X, y = rng.normal(size=(m, widths[0])), rng.normal(size=m)
        Y = y.reshape(m, 1)
        # Default arguments bind this m's arrays (timed within the same iteration).
        fns = {"numba": lambda X=X, y=y: f(params, X, y),
               "raw": lambda X=X, Y=Y: f.raw(params, X, Y),
               "numpy": lambda X=X, y=y: g(params, X, y),
               "backprop": lambda X=X, y=y: backprop(net, params, X, y)}
        fns.update({k: (lambda h=h, X=X, y=y: h(params, X, y)) for k, h in extra.items() if h})
        calls = max(1, int(2e5 // (m * net.spec.n_parameters)))
        t = interleaved(fns, reps, calls)
        floor = (X.nbytes + y.nbytes) / bw
        # below ~8 MB the data sits in cache and a DRAM floor means nothing
        floors = (f" {fmt(floor):>9} {floor / t['numba']:>8.2f}"
                  if X.nbytes + y.nbytes >= 8 << 20 else f" {'-':>9} {'-':>8}")
        print(f"{m:>9} " + " ".join(f"{fmt(t[c]):>11}" for c in cols)
              + f" {t['backprop'] / t['numba']:>8.1f}x {t['numpy'] / t['numba']:>8.1f}x"
              + floors)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: m up to 1e4, 3 repetitions, one compile timing")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 9)")
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    args = parser.parse_args(argv)
    sizes = [1, 1000, 10_000] if args.quick else [1, 10_000, 1_000_000]
    reps = args.reps or (3 if args.quick else 9)
    import numba
    print(f"python {platform.python_version()}, numpy {np.__version__}, numba "
          f"{numba.__version__} ({numba.get_num_threads()} threads, layer "
          f"{numba.config.THREADING_LAYER}), {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; " + " ".join(f"{k}={os.environ.get(k)}"
                                                   for k in ENV))
    bw = bandwidth(8 * max(sizes) * 5, reps)
    print(f"memory bandwidth (numpy sum, one thread): {bw / 1e9:.1f} GB/s")
    for name in args.nets:
        bench_net(name, sizes, reps, bw)
    print("\nJIT cost per network (fresh processes; compile_gradients only):")
    for name in args.nets[:1] if args.quick else args.nets:
        first, cached = compile_costs(*NETS[name])
        print(f"  {name:<16} first compile {first:6.2f} s   cached {cached:6.2f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
