"""How the symbolic commands scale with depth: 2-2-...-2-1 with 4 to 20 hidden layers.

For each depth this times, in this process and on a fresh network,

* ``table``: :func:`symgrad.gradient_table` (compact form, of the output) and its text;
* ``derive``: :func:`symgrad.derivation` of the first weight, w111, and its text;

and, in a child process stopped after ``--timeout`` seconds,

* ``verify``: :func:`symgrad.verify` of one (wrong) claim, ``d(output)/dw111 = x1``.

It also prints the size of what the table prints (:func:`symgrad.derive.tree_size`
of every row and every named delta) and the command line's estimate of the
expanded derivatives (:func:`symgrad.limits.derivative_size`), which is what
``verify`` works on and what :func:`symgrad.cli.options.estimate_cost` refuses past
:data:`symgrad.limits.MAX_SYMBOLIC_SIZE`.  Once ``verify`` runs out of time at one
depth it is not tried deeper.

Run: ``python benchmarks/bench_depth.py [--min 4] [--max 20] [--timeout 60]``.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from symgrad import Network, derivation, gradient_table
from symgrad.derive import reverse_program, tree_size
from symgrad.limits import MAX_SYMBOLIC_SIZE, derivative_size
from symgrad.spec import symbol_name

VERIFY_CHILD = """
import sys, time
from symgrad import Network, verify
hidden = int(sys.argv[1])
net = Network([2] + [2] * hidden + [1])
start = time.perf_counter()
[verdict] = verify(net, sys.argv[2])
print(f"{time.perf_counter() - start:.3f} {verdict.correct}")
"""


def widths(hidden: int) -> list[int]:
    return [2] + [2] * hidden + [1]


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def time_verify(hidden: int, timeout: float) -> str:
    """Seconds of one verify in a child process, or '> timeout'."""
    top = symbol_name("z", hidden + 1, 1)
    claim = f"d{top}/dw111 = x1"
    try:
        done = subprocess.run([sys.executable, "-c", VERIFY_CHILD, str(hidden), claim],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"> {timeout:g}"
    if done.returncode != 0:
        return f"failed ({done.stderr.strip().splitlines()[-1][:60]})"
    return done.stdout.split()[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=4, help="fewest hidden layers (default 4)")
    parser.add_argument("--max", type=int, default=20, help="most hidden layers (default 20)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds one verify may take (default 60)")
    args = parser.parse_args(argv)
    print(f"{'hidden':>6} {'params':>6} {'table s':>8} {'derive s':>8} {'verify s':>9} "
          f"{'printed size':>12} {'expanded (est.)':>16}")
    verify_on = True
    for hidden in range(args.min, args.max + 1):
        w = widths(hidden)
        t_table, text = timed(lambda w=w: gradient_table(Network(w)).to_text())
        t_derive, _ = timed(lambda w=w: derivation(Network(w), "w111").to_text())
        prog = reverse_program(Network(w), "output")
        memo: dict = {}
        printed = sum(tree_size(e, memo) for e in prog.compact().values())
        printed += sum(tree_size(e, memo) for _, e in prog.compact_deltas())
        estimate = derivative_size(w, ["linear"] * (hidden + 1))
        shown = "skipped"
        if verify_on:
            shown = time_verify(hidden, args.timeout)
            verify_on = not shown.startswith(">")
        note = "  (the CLI refuses verify: over the limit)" if estimate > MAX_SYMBOLIC_SIZE else ""
        print(f"{hidden:>6} {Network(w).spec.n_parameters:>6} {t_table:>8.2f} {t_derive:>8.2f} "
              f"{shown:>9} {printed:>12,} {estimate:>16,}{note}", flush=True)


if __name__ == "__main__":
    main()
