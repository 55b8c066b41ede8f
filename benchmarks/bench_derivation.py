"""How long a 10-step derivation takes to check: dL/dw111 on 2-3-3-1 tanh.

The derivation is written the way a student works backprop out by hand: the chain
rule with derivative symbols, then deltas, then each delta substituted, then the
output's delta worked out (ten steps, all right).  It is checked

* in this process with :func:`symgrad.verify_derivation` (no budget: the
  symbolic work alone; the first run builds the network's derivatives, later
  runs reuse them), and
* end to end through ``python -m symgrad verify ... --derivation -`` (interpreter
  start, imports, the worker process and its budget included).

Run: ``python benchmarks/bench_derivation.py [--repeat 5]``.  Prints figures
(medians); asserts nothing.  The target of issue 12 is under 1 s for the check.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from symgrad import Network, verify_derivation

ARCH = "2-3-3-1"
STEPS = [
    r"\frac{\partial L}{\partial w_{111}} = \frac{\partial L}{\partial z_{11}} "
    r"\frac{\partial z_{11}}{\partial w_{111}}",
    r"= \delta_{11} x_1",
    r"= \frac{\partial a_{11}}{\partial z_{11}} \frac{\partial L}{\partial a_{11}} x_1",
    r"= (1 - a_{11}^2) \frac{\partial L}{\partial a_{11}} x_1",
    r"= (1 - a_{11}^2) (w_{211} \delta_{21} + w_{221} \delta_{22} + w_{231} \delta_{23}) x_1",
    r"= (1 - a_{11}^2) (w_{211} (1 - a_{21}^2) w_{311} \delta_{31}"
    r" + w_{221} (1 - a_{22}^2) w_{312} \delta_{31}"
    r" + w_{231} (1 - a_{23}^2) w_{313} \delta_{31}) x_1",
    r"= (1 - a_{11}^2) \delta_{31} (w_{211} w_{311} (1 - a_{21}^2)"
    r" + w_{221} w_{312} (1 - a_{22}^2) + w_{231} w_{313} (1 - a_{23}^2)) x_1",
    r"= (1 - a_{11}^2) (z_{31} - y) (w_{211} w_{311} (1 - a_{21}^2)"
    r" + w_{221} w_{312} (1 - a_{22}^2) + w_{231} w_{313} (1 - a_{23}^2)) x_1",
    r"= (1 - \tanh(z_{11})^2) (\hat{y} - y) (w_{211} w_{311} (1 - a_{21}^2)"
    r" + w_{221} w_{312} (1 - a_{22}^2) + w_{231} w_{313} (1 - a_{23}^2)) x_1",
    r"= x_1 (\hat{y} - y) (1 - a_{11}^2) (w_{311} w_{211} (1 - a_{21}^2)"
    r" + w_{312} w_{221} (1 - a_{22}^2) + w_{313} w_{231} (1 - a_{23}^2))",
]
TEXT = "\n".join(STEPS) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    net = Network([2, 3, 3, 1], activation="tanh")
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = verify_derivation(net, TEXT)
        times.append(time.perf_counter() - start)
    statuses = [step.status for step in result.steps]
    print(f"{ARCH} tanh, {len(statuses)} steps: {statuses.count('correct')} correct, "
          f"first wrong step {result.first_wrong_step}")
    print(f"in process: first run {times[0]:.3f} s, then median "
          f"{statistics.median(times[1:] or times):.3f} s")
    ends = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "symgrad", "verify", ARCH,
                               "--activation", "tanh", "--derivation", "-"],
                              input=TEXT, capture_output=True, text=True)
        ends.append(time.perf_counter() - start)
    print(f"end to end (python -m symgrad, exit {done.returncode}): median "
          f"{statistics.median(ends):.3f} s")


if __name__ == "__main__":
    main()
