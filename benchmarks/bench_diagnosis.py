"""How often a diagnosis names the mistake: every single-mutation claim, per activation.

The wrong claims come from tests/mutations.py (2-2-1 and 2-3-3-1, hidden activation
f, linear output, half-squared loss): a chain factor dropped or added, the sign flipped, a
scale (2, 3, 1/2), another parameter's derivative (the transposed weight's
included), z for a, f for f'.  Their truth is ``sympy.diff`` of the network
written out there, not symgrad's derivation.  For each activation it prints how
many got the kind the mutation deserves, how many diagnoses' relations hold at
the counterexample printed beside them, the misses by mutation, and the time.
The issue (15) asks for >= 95% per activation, ReLU included.

Run: ``python benchmarks/bench_diagnosis.py [ACTIVATION ...]``.  Prints figures;
asserts nothing.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import mutations as M  # noqa: E402

from symgrad import Network, verify  # noqa: E402


def _holds(m, v) -> bool:
    """The mutation's relation holds at the verdict's counterexample."""
    point = M.values_at(v.counterexample)
    lhs, rhs = m.relation
    free = lhs.free_symbols | rhs.free_symbols | m.claimed.free_symbols | m.true.free_symbols
    point.update({s: sp.Integer(1) for s in free if s not in point})
    return M.close(lhs.xreplace(point), rhs.xreplace(point))


#: The networks: every mutant on 2-2-1; on 2-3-3-1 (the last two layers' weights),
#: two other parameters' derivatives per parameter instead of all.
NETS = (((2, 2, 1), None), ((2, 3, 3, 1), 2))


def main(activations) -> None:
    total_right = total = 0
    for act, (widths, others) in ((a, n) for a in activations for n in NETS):
        M.check_factors(act, widths)
        mutants = M.mutants(act, widths, others=others)
        start = time.perf_counter()
        verdicts = verify(Network(list(widths), activation=act), [m.text for m in mutants])
        seconds = time.perf_counter() - start
        right = holds = 0
        misses: collections.Counter = collections.Counter()
        for m, v in zip(mutants, verdicts):
            kind = v.diagnosis.kind if v.diagnosis else None
            if v.correct is False and kind == m.kind:
                right += 1
            else:
                misses[f"{m.mutation.split()[0]}: want {m.kind}, got {kind}"] += 1
            holds += v.correct is False and _holds(m, v)
        total_right += right
        total += len(mutants)
        arch = "-".join(map(str, widths))
        rate = right / len(mutants)
        print(f"{act:>10} {arch:>7}: kind right {right}/{len(mutants)} ({rate:.1%}), "
              f"relation holds at the counterexample {holds}/{len(mutants)}, "
              f"{seconds:.1f} s ({1000 * seconds / len(mutants):.0f} ms per claim)")
        for what, n in misses.most_common():
            print(f"{'':>12}{n} x {what}")
    print(f"{'all':>18}: {total_right}/{total} ({total_right / total:.1%})")


if __name__ == "__main__":
    main(sys.argv[1:] or M.ACTIVATIONS)
