"""Time to first gradient: starts, first trainings per backend, compile times, ratios.

Prints, in one run, the figures of issue 16:

1. **start**: ``symgrad --version``, ``--help`` and an argument error, each in a
   fresh process, against ``python -c "import numpy"`` (the target: under 2x);
2. **first train**: ``symgrad train 4-16-16-1 --activation tanh --synthetic
   --slope 1,2,3,4 --epochs 200`` (a small job: 100 samples) and the same with
   ``--samples 200000 --epochs 100`` (a large one), with ``--backend numpy``,
   ``numba`` and ``auto``, each cold (a fresh, empty kernel cache) and warm (the
   same cache, second process); the whole process is timed, and the backend
   ``auto`` picked is printed (the target: ``auto`` within 10-30% of the better
   of the other two);
3. **cold compile**: ``compile_gradients(net, backend="numba")`` in a fresh
   process with an empty cache, for 2-2-1, 4-16-16-1 tanh and a 20-layer
   4-16x19-1 tanh net, all with biases, and the cached load in a second process
   (the targets: 4-16-16-1 under 2 s, 20 layers under 3 s).  Each is timed two
   ways: the call alone (it imports numba and pays numba's first-compile set-up:
   a trivial function's first compile takes about 0.4 s in a new process), and
   from before ``from symgrad import`` (SymPy's import too);
4. **derive + compile** of 32-128-128-1 tanh with biases on the numpy backend,
   in a fresh process, from ``Network(...)`` to the compiled function (the
   target: under 5 s);
5. **m = 1e6**: the numba kernel against the hand-written numpy backprop
   (:func:`symgrad.references.backprop.backprop`) for 2-2-1 and 4-16-16-1 tanh with
   biases, medians of interleaved repetitions (the targets: 8x and 3x).

Every figure is the median of ``--reps`` repetitions with the spread (min-max)
beside it; the machine's load average is printed at the start and the end.  On
a machine shared with other work the absolute times stretch, often several
times; the ratios (measured in the same run) much less.

Run ``python benchmarks/bench_first_gradient.py`` (10-20 minutes on a busy 2-core
machine) or ``--quick`` (one repetition, no large job).  Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_backends import ENV, interleaved

if __name__ == "__main__" and any(k not in os.environ for k in ENV):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ENV})

import numpy as np  # noqa: E402

from symgrad import Network, compile_gradients  # noqa: E402
from symgrad.references.backprop import backprop  # noqa: E402

PY = sys.executable
SMALL_JOB = ["train", "4-16-16-1", "--activation", "tanh", "--synthetic", "--slope",
             "1,2,3,4", "--epochs", "200", "--quiet"]
LARGE_JOB = SMALL_JOB[:-2] + ["100", "--samples", "200000", "--quiet"]
COMPILE_NETS = {"2-2-1": [2, 2, 1], "4-16-16-1 tanh": [4, 16, 16, 1],
                "4-16x19-1 tanh (20 layers)": [4] + [16] * 19 + [1]}
_COMPILE = """
import time
t, c = time.perf_counter(), time.process_time()
from symgrad import Network, compile_gradients
net = Network({widths}, activation="tanh" if len({widths}) > 3 else "linear", bias=True)
call = time.perf_counter()
compile_gradients(net, backend={backend!r})
end = time.perf_counter()
print(end - call, end - t, time.process_time() - c)
"""


def spread(values: list[float]) -> str:
    """``median (min-max)`` in seconds."""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:7.2f} s"
    return f"{med:7.2f} s ({min(values):.2f}-{max(values):.2f})"


def run_process(args: list[str], env: dict | None = None) -> tuple[float, str]:
    """Seconds of one process, and its stdout.

    The child may write and read bytecode caches (``PYTHONDONTWRITEBYTECODE`` is
    dropped from its environment): after ``pip install`` every module has its
    ``.pyc``, and timing the compilation of symgrad's own sources to bytecode in
    every process would measure the machine's settings, not symgrad.
    """
    env = {k: v for k, v in (os.environ if env is None else env).items()
           if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, out.stdout


def prepare() -> None:
    """Write the bytecode caches of the modules the children import (untimed), and say
    whether SciPy is installed: numba's first compile in a process imports
    ``scipy.linalg`` when it is (about 0.2 s of every cold and cached figure below)."""
    with tempfile.TemporaryDirectory() as cache:
        run_process([PY, "-c", _COMPILE.format(widths=[2, 3, 1], backend="numba")],
                    {**os.environ, "SYMGRAD_CACHE_DIR": cache})
    run_process([PY, "-m", "symgrad", "--help"])
    scipy = importlib.util.find_spec("scipy") is not None
    print(f"bytecode caches written; SciPy {'installed' if scipy else 'not installed'}")


def timed_compile(code: str, env: dict | None = None) -> tuple[float, float, float]:
    """Seconds a child running ``code`` prints: the call's wall, the wall since before
    ``from symgrad import`` (imports included), and the process's CPU."""
    call, wall, cpu = run_process([PY, "-c", code], env)[1].split()[-3:]
    return float(call), float(wall), float(cpu)


def starts(reps: int) -> None:
    print("\n1. start (fresh processes)")
    cmds = {"python -c 'import numpy'": [PY, "-c", "import numpy"],
            "symgrad --version": [PY, "-m", "symgrad", "--version"],
            "symgrad --help": [PY, "-m", "symgrad", "--help"],
            "symgrad train --bogus": [PY, "-m", "symgrad", "train", "--bogus"]}
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(max(5, 3 * reps)):              # interleaved
        for name, cmd in cmds.items():
            times[name].append(run_process(cmd)[0])
    base = statistics.median(times["python -c 'import numpy'"])
    for name, values in times.items():
        print(f"  {name:<28} {spread(values)}  {statistics.median(values) / base:5.2f}x numpy")


def first_trains(reps: int, large: bool) -> None:
    print("\n2. first train, whole process: cold = empty kernel cache, warm = second process")
    jobs = {"small (100 samples, 200 epochs)": SMALL_JOB}
    if large:
        jobs["large (200000 samples, 100 epochs)"] = LARGE_JOB
    for job, args in jobs.items():
        print(f"  {job}")
        for backend in ("numpy", "numba", "auto"):
            cold, warm, picked = [], [], set()
            for _ in range(reps):
                with tempfile.TemporaryDirectory() as cache:
                    env = {**os.environ, "SYMGRAD_CACHE_DIR": cache}
                    for bucket in (cold, warm):
                        seconds, out = run_process([PY, "-m", "symgrad", *args, "--backend",
                                                    backend], env)
                        bucket.append(seconds)
                        picked |= {line.split(",")[0] for line in out.splitlines()
                                   if line.startswith("backend: ")}
            note = f"  [{'; '.join(sorted(picked))}]" if picked else ""
            print(f"    {backend:<6} cold {spread(cold)}   warm {spread(warm)}{note}")


def cold_compiles(reps: int) -> None:
    print("\n3. numba compile in a fresh process, cold (empty kernel cache) and cached:"
          "\n   call = compile_gradients(net, backend='numba') alone (numba's import and its"
          "\n   first-compile set-up included), with imports = from before 'from symgrad"
          "\n   import' (SymPy's import too), cpu = CPU time of the process")
    for name, widths in COMPILE_NETS.items():
        first, cached = [], []
        for _ in range(reps):
            with tempfile.TemporaryDirectory() as cache:
                env = {**os.environ, "SYMGRAD_CACHE_DIR": cache}
                code = _COMPILE.format(widths=widths, backend="numba")
                for bucket in (first, cached):
                    bucket.append(timed_compile(code, env))
        print(f"  {name:<28} cold: call {spread([f[0] for f in first])}, with imports "
              f"{spread([f[1] for f in first])}, cpu {spread([f[2] for f in first])}"
              f"\n  {'':<28} cached: call {spread([f[0] for f in cached])}, with imports "
              f"{spread([f[1] for f in cached])}")


def derive_compile(reps: int) -> None:
    print("\n4. derive + compile, numpy backend, fresh process (SymPy import included)")
    code = _COMPILE.format(widths=[32, 128, 128, 1], backend="numpy")
    runs = [timed_compile(code) for _ in range(reps)]
    print(f"  32-128-128-1 tanh, biases (20865 parameters)   {spread([r[1] for r in runs])}"
          f" cpu {spread([r[2] for r in runs])}")


def ratios(reps: int) -> None:
    print("\n5. m = 1e6: hand-written numpy backprop / numba (same run, interleaved)")
    rng = np.random.default_rng(0)
    for name, widths, act in (("2-2-1, biases", [2, 2, 1], "linear"),
                              ("4-16-16-1 tanh, biases", [4, 16, 16, 1], "tanh")):
        net = Network(widths, activation=act, bias=True)
        f = compile_gradients(net, backend="numba")
        params = rng.normal(size=net.spec.n_parameters) / 2
        X, y = rng.normal(size=(1_000_000, widths[0])), rng.normal(size=1_000_000)
        fns = {"numba": lambda f=f, p=params, X=X, y=y: f(p, X, y),
               "backprop": lambda net=net, p=params, X=X, y=y: backprop(net, p, X, y)}
        t = interleaved(fns, max(3, reps), 1)
        print(f"  {name:<24} numba {t['numba'] * 1e3:8.1f} ms   backprop "
              f"{t['backprop'] * 1e3:8.1f} ms   {t['backprop'] / t['numba']:5.1f}x")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--quick", action="store_true", help="one repetition, no large job")
    parser.add_argument("--part", type=int, action="append", choices=range(1, 6),
                        help="run only this part (1-5; may be repeated)")
    args = parser.parse_args(argv)
    reps = 1 if args.quick else args.reps
    parts = [lambda: starts(reps), lambda: first_trains(reps, large=not args.quick),
             lambda: cold_compiles(reps), lambda: derive_compile(reps), lambda: ratios(reps)]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    prepare()
    for number, part in enumerate(parts, 1):
        if not args.part or number in args.part:
            part()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
