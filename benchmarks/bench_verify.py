"""Claims per second of ``symgrad verify`` on a 40-claim file.

Builds 40 claims about a 2-3-1 tanh network with biases (a third correct in
intermediate names, a third correct in base symbols, a third wrong in various
ways), then times

* the Python API (:func:`symgrad.claims.verify`) on all 40, after one warm-up claim;
* the command line, ``symgrad verify 2-3-1 --activation tanh --bias --file F``,
  as a user runs it (includes interpreter start-up and SymPy import);
* single verdicts on the 2-2-1 seed network and on the 2-3-1 network.

Run: ``python benchmarks/bench_verify.py``.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sympy as sp

from symgrad import Network, gradients, verify


def claims(net) -> list:
    """40 claims about ``d L / d parameter`` in plain text."""
    compact = gradients(net, "loss", form="compact")
    expanded = gradients(net, "loss")
    x1 = net.inputs[0]
    out = []
    for p in net.parameters:
        out.append(f"dL/d{p} = {sp.sstr(compact[p])}")
        out.append(f"dL/d{p} = {sp.sstr(expanded[p])}")
        out.append(f"dL/d{p} = {sp.sstr(-compact[p] * x1)}")
    out.append("dL/dw111 = x1")
    return out[:40]


def time_api(net, texts) -> float:
    verify(net, texts[0])  # warm-up: builds and caches the symbolic gradients
    start = time.perf_counter()
    verdicts = verify(net, texts)
    elapsed = time.perf_counter() - start
    right = sum(v.correct for v in verdicts)
    print(f"API: {len(texts)} claims ({right} correct, {len(texts) - right} wrong) in "
          f"{elapsed:.2f} s = {len(texts) / elapsed:.1f} claims/s")
    return elapsed


def time_cli(texts) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "symgrad", "verify", "2-3-1", "--activation", "tanh",
               "--bias", "--file", str(path)]
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        startup = time.perf_counter()
        subprocess.run([sys.executable, "-m", "symgrad", "--version"], capture_output=True)
        startup = time.perf_counter() - startup
    print(f"CLI: {len(texts)} claims in {elapsed:.2f} s (exit {result.returncode}) = "
          f"{len(texts) / elapsed:.1f} claims/s; interpreter + import alone {startup:.2f} s")
    return elapsed


def time_single(net, text, label) -> None:
    verify(net, text)
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        [v] = verify(net, text)
    each = (time.perf_counter() - start) / runs
    state = "correct" if v.correct else f"wrong, {v.diagnosis.kind}"
    print(f"single verdict, {label} ({state}): {each * 1000:.0f} ms")


def main() -> None:
    net = Network([2, 3, 1], activation="tanh", bias=True)
    texts = claims(net)
    time_api(net, texts)
    time_cli(texts)
    seed = Network([2, 2, 1])
    time_single(seed, "dz21/dw111 = x1", "2-2-1 seed claim")
    time_single(seed, "dz21/dw111 = w211*x1", "2-2-1 seed answer")
    time_single(net, "dL/dw111 = w211*x1*(z21 - y)", "2-3-1 tanh, missing f'(z11)")
    time_single(net, "dL/dw111 = w211*x1*(1 - a11^2)*(z21 - y)", "2-3-1 tanh")


if __name__ == "__main__":
    main()
