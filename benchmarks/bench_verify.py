"""How fast ``symgrad verify`` decides: the seed claim end to end, a 100-claim file.

Builds 100 claims about a 2-3-1 tanh network with biases (correct in
intermediate names, correct in base symbols, wrong in various ways), then times

* the seed claim as a user runs it, ``python -m symgrad verify 2-2-1 "dz21/dw111 = x1"``
  (interpreter start-up, SymPy import, the worker process and the verdict);
* the command line on the 100-claim file, ``symgrad verify 2-3-1 --activation tanh
  --bias --file F`` (every claim in the same warm worker, each under its budget);
* the Python API (:func:`symgrad.verify`) on all 100, in this process, after one
  warm-up claim;
* single verdicts on the 2-2-1 seed network and on the 2-3-1 network.

``--old DIR`` also runs the two command-line figures with the symgrad found in
DIR (for example a ``git worktree add /tmp/old <commit>`` of an earlier version),
so that a change can be compared before and after on the same machine.

Run: ``python benchmarks/bench_verify.py [--old DIR]``.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sympy as sp

from symgrad import Network, gradients, verify

SEED_CLAIM = ["verify", "2-2-1", "dz21/dw111 = x1"]
FILE_NET = ["2-3-1", "--activation", "tanh", "--bias"]


def claims(net, n: int = 100) -> list:
    """``n`` claims about ``d L / d parameter`` in plain text."""
    compact = gradients(net, "loss", form="compact")
    expanded = gradients(net, "loss")
    x1 = net.inputs[0]
    out = []
    for p in net.parameters:
        out.append(f"dL/d{p} = {sp.sstr(compact[p])}")
        out.append(f"dL/d{p} = {sp.sstr(expanded[p])}")
        out.append(f"dL/d{p} = {sp.sstr(-compact[p] * x1)}")
        out.append(f"dL/d{p} = {sp.sstr(2 * compact[p])}")
        out.append(f"dL/d{p} = {sp.sstr(compact[p] + x1)}")
    out.append("dL/dw111 = x1")
    return (out * (n // len(out) + 1))[:n]


def symgrad_cli(args, pythonpath=None) -> tuple[float, int]:
    """Seconds and exit code of ``python -m symgrad ARGS`` (with ``pythonpath`` first)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, env=env)
    return time.perf_counter() - start, done.returncode


def time_seed(label, pythonpath=None, runs: int = 5) -> None:
    times = [symgrad_cli(SEED_CLAIM, pythonpath) for _ in range(runs)]
    startup = statistics.median(symgrad_cli(["--version"], pythonpath)[0] for _ in range(3))
    print(f"{label}: seed claim end to end, median of {runs}: "
          f"{statistics.median(t for t, _ in times):.2f} s (exit {times[0][1]}); "
          f"interpreter + import alone {startup:.2f} s")


def time_file(texts, label, pythonpath=None, runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        times = [symgrad_cli(["verify", *FILE_NET, "--file", str(path)], pythonpath)
                 for _ in range(runs)]
    elapsed = statistics.median(t for t, _ in times)
    print(f"{label}: CLI, {len(texts)} claims, median of {runs}: {elapsed:.2f} s "
          f"(exit {times[0][1]}) = {len(texts) / elapsed:.1f} claims/s")


def time_api(net, texts) -> None:
    verify(net, texts[0])  # warm-up: builds and caches the symbolic gradients
    start = time.perf_counter()
    verdicts = verify(net, texts)
    elapsed = time.perf_counter() - start
    right = sum(bool(v.correct) for v in verdicts)
    print(f"API (this process): {len(texts)} claims ({right} correct, {len(texts) - right} "
          f"wrong) in {elapsed:.2f} s = {len(texts) / elapsed:.1f} claims/s")


def time_single(net, text, label) -> None:
    verify(net, text)
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        [v] = verify(net, text)
    each = (time.perf_counter() - start) / runs
    state = "correct" if v.correct else f"{v.status}, {v.diagnosis.kind if v.diagnosis else ''}"
    print(f"single verdict, {label} ({state}): {each * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", metavar="DIR", help="also time the symgrad in DIR")
    args = parser.parse_args()
    net = Network([2, 3, 1], activation="tanh", bias=True)
    texts = claims(net)
    time_seed("this tree")
    if args.old:
        time_seed(f"old ({args.old})", args.old)
    time_file(texts, "this tree")
    if args.old:
        time_file(texts, f"old ({args.old})", args.old)
    time_api(net, texts)
    seed = Network([2, 2, 1])
    time_single(seed, "dz21/dw111 = x1", "2-2-1 seed claim")
    time_single(seed, "dz21/dw111 = w211*x1", "2-2-1 seed answer")
    time_single(net, "dL/dw111 = w211*x1*(z21 - y)", "2-3-1 tanh, missing f'(z11)")
    time_single(net, "dL/dw111 = w211*x1*(1 - a11^2)*(z21 - y)", "2-3-1 tanh")


if __name__ == "__main__":
    main()
