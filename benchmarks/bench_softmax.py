"""The softmax + cross-entropy output on the numba backend vs the hand-written backprop.

The 4-16-16-3 network (tanh hidden layers, biases, softmax output, cross-entropy,
optionally L2) at m = 1e6 samples (``--samples`` to change): times
``f(params, X, y) -> (cost, grad)`` for

* ``numba``     ``compile_gradients(net, backend="numba")`` (the stacked kernel:
  max subtraction and a branch-free exp per sample and output);
* ``numpy``     symgrad's numpy backend;
* ``backprop``  the hand-written numpy backprop
  (:func:`symgrad.references.backprop.backprop`), the baseline.

Every figure is the median of interleaved repetitions, with the spread (min and
max) beside it; the ratios come from the same run.  Prints figures; asserts
nothing.  ``python benchmarks/bench_softmax.py`` (about a minute on 2 cores, the
first compile included), or ``--quick`` (m = 1e5, 3 repetitions).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from symgrad import Network, compile_gradients
from symgrad.references.backprop import backprop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=float, default=1e6)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    m, reps = (int(1e5), 3) if args.quick else (int(args.samples), args.reps)
    net = Network([4, 16, 16, 3], activation="tanh", output_activation="softmax", bias=True,
                  l2=args.l2)
    rng = np.random.default_rng(0)
    p = rng.normal(scale=0.5, size=net.spec.n_parameters)
    X = rng.normal(size=(m, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=m)]
    start = time.perf_counter()
    fast = compile_gradients(net, backend="numba")
    compile_s = time.perf_counter() - start
    slow = compile_gradients(net, backend="numpy")
    runs = {"numba": lambda: fast(p, X, Y), "numpy": lambda: slow(p, X, Y),
            "backprop": lambda: backprop(net, p, X, Y)}
    ref = backprop(net, p, X, Y)[1]
    for name, fn in runs.items():               # warm up, and agree
        worst = float(np.max(np.abs(fn()[1] - ref)))
        print(f"{name:9s} max |grad - backprop| = {worst:.1e}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    print(f"{net.describe()}; m = {m:,}; {reps} interleaved repetitions; "
          f"numba compile (or cache load) {compile_s:.1f} s")
    base = statistics.median(times["backprop"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:9s} median {med * 1e3:9.1f} ms  (min {min(ts) * 1e3:.1f}, max "
              f"{max(ts) * 1e3:.1f})   {base / med:5.1f}x the hand backprop")


if __name__ == "__main__":
    main()
