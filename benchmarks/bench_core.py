"""The core's costs: deriving, compiling and evaluating exact gradients.

For 2-2-1 (linear), 2-4-4-1 tanh, 4-16-16-1 tanh (with biases), 4-8-8-8-8-1 tanh
and 8-32-32-1 tanh this prints

* ``derive``: symbolic reverse mode (:func:`symgrad.reverse_program` plus the
  compact gradients), from a fresh :class:`~symgrad.Network`;
* ``compile``: :func:`symgrad.compile_gradients` (numpy backend, reverse mode)
  on top of that;
* ``diff``: plain ``sympy.diff`` of the nested loss for every parameter, plus
  compiling those flat expressions, in a subprocess killed after 60 s;
* evaluation time of the compiled gradient at m = 1, 1e4 and 1e6 as a ratio to
  the hand-written numpy backprop (:func:`symgrad.references.backprop.backprop`), medians of
  interleaved repetitions in the same run (ratio < 1: symgrad is faster).

Targets (issue 2): derive + compile 4-16-16-1 tanh < 1 s and 8-32-32-1 tanh < 3 s;
compiled gradient at m = 1e6 within 1.5x of the backprop for 2-2-1 and
4-16-16-1 tanh with biases.

Run ``python benchmarks/bench_core.py`` (a few minutes) or ``--quick``.
Allocator settings are pinned as in ``bench_backends.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench_backends import MALLOC_ENV, fmt, interleaved

if __name__ == "__main__" and any(k not in os.environ for k in MALLOC_ENV):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **MALLOC_ENV})

import numpy as np  # noqa: E402

from symgrad import Network, compile_gradients, reverse_program  # noqa: E402
from symgrad.references.backprop import backprop  # noqa: E402

NETS = [("2-2-1", [2, 2, 1], "linear", False),
        ("2-4-4-1 tanh", [2, 4, 4, 1], "tanh", False),
        ("4-16-16-1 tanh+b", [4, 16, 16, 1], "tanh", True),
        ("4-8-8-8-8-1 tanh", [4, 8, 8, 8, 8, 1], "tanh", False),
        ("8-32-32-1 tanh", [8, 32, 32, 1], "tanh", False)]

_DIFF = """
import time
from symgrad import Network, compile_gradients
net = Network({widths}, activation={act!r}, bias={bias})
t = time.perf_counter()
compile_gradients(net, method="diff")
print(time.perf_counter() - t)
"""


def derive_and_compile(widths, act, bias):
    """Seconds to derive (reverse program + compact form) and then to compile."""
    net = Network(widths, activation=act, bias=bias)
    t0 = time.perf_counter()
    reverse_program(net, "loss").compact()
    t1 = time.perf_counter()
    compile_gradients(net)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def diff_cost(widths, act, bias, limit):
    """Seconds for sympy.diff + flat compile in a fresh process, or None past ``limit``."""
    code = _DIFF.format(widths=widths, act=act, bias=bias)
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=limit, check=True).stdout
    except subprocess.TimeoutExpired:
        return None
    return float(out.split()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small m, few repetitions")
    parser.add_argument("--diff-limit", type=float, default=60.0, metavar="S")
    args = parser.parse_args(argv)
    sizes = [1, 10_000] if args.quick else [1, 10_000, 1_000_000]
    reps = 3 if args.quick else 7
    print(f"symgrad core benchmark; numpy {np.__version__}, {os.cpu_count()} cores")
    print(f"\n{'network':<18} {'derive':>8} {'compile':>8} {'total':>8} {'diff+compile':>13}")
    for name, widths, act, bias in NETS:
        d, c = derive_and_compile(widths, act, bias)
        limit = 5.0 if args.quick else args.diff_limit
        diff = diff_cost(widths, act, bias, limit)
        dtext = fmt(diff) if diff is not None else f"> {limit:.0f} s"
        print(f"{name:<18} {fmt(d):>8} {fmt(c):>8} {fmt(d + c):>8} {dtext:>13}")
    print("\nevaluation, compiled (numpy backend) vs hand-written backprop "
          "(ratio = compiled / backprop; < 1 is faster)")
    print(f"{'network':<18} {'m':>9} {'compiled':>10} {'backprop':>10} {'ratio':>7}")
    rng = np.random.default_rng(0)
    for name, widths, act, bias in NETS:
        net = Network(widths, activation=act, bias=bias)
        f = compile_gradients(net)
        params = rng.normal(size=net.spec.n_parameters) / np.sqrt(max(widths))
        for m in sizes:
            X, y = rng.normal(size=(m, widths[0])), rng.normal(size=m)
            calls = max(1, int(3e5 // (m * net.spec.n_parameters)))
            t = interleaved({"compiled": lambda f=f, p=params, X=X, y=y: f(p, X, y),
                             "backprop": lambda n=net, p=params, X=X, y=y: backprop(n, p, X, y)},
                            reps, calls)
            print(f"{name:<18} {m:>9} {fmt(t['compiled']):>10} {fmt(t['backprop']):>10} "
                  f"{t['compiled'] / t['backprop']:>6.2f}x")


if __name__ == "__main__":
    main()
