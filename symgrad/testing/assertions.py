"""Assertions for your own tests: is your hand-written backprop right?

:func:`assert_backprop_matches` calls your gradient function on several random
parameter sets and batches, compares every entry with the exact gradient (the
compiled symbolic gradient of :func:`symgrad.compile_gradients`), and on a
mismatch raises :class:`BackpropMismatch`, an ``AssertionError`` whose message
names the entries that disagree, shows both values aligned, and says what the
bug probably is (wrong sign, missing 1/m, the 1/2 of the loss, a transposed
matrix, a missing activation derivative, which layer) with the smallest failing
case it could find.

>>> import numpy as np
>>> from symgrad import Network
>>> def my_backprop(weights, biases, X, y):       # 2-2-1 linear net, no biases
...     W1, W2 = weights
...     a1 = X @ W1.T
...     delta2 = (a1 @ W2.T - y) / len(X)        # dC/dz2 of C = mean of (yhat - y)**2/2
...     delta1 = delta2 @ W2
...     return [delta1.T @ X, delta2.T @ a1], []
>>> assert_backprop_matches(my_backprop, Network([2, 2, 1]))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from symgrad.backends import CompiledGradient, compile_gradients
from symgrad.errors import SpecError, SpecTypeError
from symgrad.network import Network
from symgrad.references.check import band, min_kink_distance, random_problem, relative_errors
from symgrad.spec import choices_message
from symgrad.testing.diagnosis import Finding, diagnose
from symgrad.testing.layouts import (
    LAYOUTS,
    BackpropTimeout,
    GradientFormatError,
    _Checker,
    arguments,
    call,
    flatten,
)

#: Default tolerances (float64): an entry passes when |yours - true| <= ATOL + RTOL * |true|.
RTOL = 1e-6
ATOL = 1e-9
#: Default number of random (parameters, batch) draws.
BATCHES = 4
#: Batch sizes of the draws, in turn: different sizes tell a missing 1/m from a constant.
BATCH_SIZES = (5, 3, 8, 1, 4, 7, 2, 6)
#: Failing entries listed per batch in the message.
MAX_ROWS = 12
#: Default seconds one call of your function may take (``timeout=``).
TIMEOUT = 60.0

__all__ = ["ATOL", "BATCHES", "RTOL", "TIMEOUT", "BackpropMismatch", "BackpropTimeout",
           "GradientFormatError", "assert_backprop_matches"]


class BackpropMismatch(AssertionError):
    """Your gradients differ from the exact ones; ``str(err)`` is the full report.

    Attributes: ``findings`` (list of diagnoses with ``.code`` and ``.text``),
    ``diagnoses`` (the codes), ``minimal`` (the smallest failing case found, a dict).
    """

    def __init__(self, message: str, findings: Iterable[Finding] = (),
                 minimal: dict[str, Any] | None = None):
        super().__init__(message)
        self.findings = list(findings)
        self.minimal = minimal

    @property
    def diagnoses(self) -> list[str]:
        return [f.code for f in self.findings]


class _Trial:
    def __init__(self, net: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray,
                 yours: np.ndarray, true: np.ndarray):
        self.net, self.params, self.X, self.Y = net, params, X, Y
        self.yours, self.true, self.m = yours, true, X.shape[0]


class _Runner:
    """Calls the user's function in a layout and pairs its result with the truth."""

    def __init__(self, fn, layout, transpose, flat_y, atol, rtol, timeout=None):
        self.fn, self.layout, self.transpose, self.flat_y = fn, layout, transpose, flat_y
        self.atol, self.rtol, self.timeout = atol, rtol, timeout
        self.checker = _Checker(layout)
        self._truth: dict[Network, CompiledGradient] = {}

    def truth(self, net: Network) -> CompiledGradient:
        if net not in self._truth:
            self._truth[net] = compile_gradients(net)
        return self._truth[net]

    def run(self, net, params, X, Y, label=""):
        args = arguments(self.layout, net.spec, params, X, Y, transpose=self.transpose,
                         flat_y=self.flat_y)
        where = (f"{label or 'a call while searching for a smaller case'} "
                 f"(m={X.shape[0]}, layout {self.layout!r}, {net.describe()})")
        try:
            result = call(self.fn, args, self.timeout, where)
        except BackpropTimeout:
            raise
        except Exception as exc:
            if label and hasattr(exc, "add_note"):
                exc.add_note(f"symgrad.testing.assertions: raised by your function on {label} "
                             f"(m={X.shape[0]}, layout={self.layout!r}, {net.describe()})")
            raise
        yours = flatten(self.layout, net.spec, result, self.checker, transpose=self.transpose)
        return _Trial(net, params, X, Y, yours, self.truth(net)(params, X, Y)[1])

    def close(self, yours, true):
        with np.errstate(invalid="ignore"):
            return np.abs(yours - true) <= self.atol + self.rtol * np.abs(true)

    def fails(self, trial):
        return not bool(np.all(self.close(trial.yours, trial.true)))


def _check_options(fn, net, layout, transpose, flat_y, atol, rtol, batches, seed, timeout):
    if not callable(fn):
        raise SpecTypeError(f"fn must be your gradient function, got {type(fn).__name__}")
    if not isinstance(net, Network):
        raise SpecTypeError(f"net must be a symgrad.Network, got {type(net).__name__}; "
                            "e.g. Network([2, 2, 1], activation='sigmoid')")
    if layout not in LAYOUTS:
        raise SpecError(choices_message("layout", layout, LAYOUTS))
    if transpose and layout != "matrices":
        raise SpecError(f"transpose=True applies to layout 'matrices' only, not {layout!r}")
    if flat_y and net.spec.n_outputs != 1:
        raise SpecError(f"flat_y=True needs one output; this network has {net.spec.n_outputs}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            raise SpecError(f"{name} must be a number >= 0, got {tol!r}")
    for name, value, low in (("batches", batches, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SpecError(f"{name} must be an integer >= {low}, got {value!r}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout < float("inf")):
        raise SpecError(f"timeout must be a number of seconds > 0, or None for no limit; "
                        f"got {timeout!r}")


def assert_backprop_matches(fn: Callable[..., Any], net: Network, *, layout: str = "matrices",
                            transpose: bool = False, flat_y: bool = False, atol: float = ATOL,
                            rtol: float = RTOL, batches: int = BATCHES, seed: int = 0,
                            shrink: bool = True, timeout: float | None = TIMEOUT) -> None:
    """Assert that ``fn`` computes the exact gradient of the batch-mean cost of ``net``.

    Parameters
    ----------
    fn : callable
        Your backprop.  Layout ``"matrices"`` (default):
        ``fn(weights, biases, X, y) -> (weight_grads, bias_grads)`` where
        ``weights[l]`` has shape ``(n_{l+1}, n_l)`` (row = to-neuron; with
        ``transpose=True`` it is ``(n_l, n_{l+1})``), ``biases[l]`` shape
        ``(n_{l+1},)`` (empty lists without biases), and the gradients have the
        same shapes.  ``"vector"``: ``fn(params, X, y) -> grad`` (or
        ``(cost, grad)``) in ``net.parameters`` order.  ``"dict"``:
        ``fn(params, X, y) -> {name: value}`` with ``params`` a dict keyed by
        parameter name (``"w111"``, ``"b21"``).  In every layout X is
        ``(m, n_inputs)`` and y is ``(m, n_outputs)`` (``(m,)`` with ``flat_y=True``),
        and the gradient is of the cost C = (1/m) * sum of the per-sample loss.
    net : Network
        The architecture, activations and loss your function implements.
    layout : {"matrices", "vector", "dict"}
    transpose : bool
        Weights are ``(n_in, n_out)`` matrices (layout "matrices" only).
    flat_y : bool
        Pass y as shape ``(m,)`` (networks with one output).
    atol, rtol : float
        An entry passes when ``|yours - true| <= atol + rtol * |true|``.  The
        defaults suit float64 code; float32 code needs about ``rtol=1e-3``.
    batches : int
        Number of random parameter sets, each with its own batch (sizes cycle
        through :data:`BATCH_SIZES`).  ReLU networks are drawn away from the kinks.
    seed : int
    shrink : bool
        On failure, search for a smaller failing case (smaller widths, for layout
        "matrices" only; fewer samples; rounder numbers).  This calls ``fn``
        again; exceptions it raises during the search are ignored, and a call
        that times out ends the search.
    timeout : float or None
        Seconds each call of ``fn`` may take (default :data:`TIMEOUT`, 60); then
        :class:`BackpropTimeout` is raised at once.  ``None``: no limit, and
        ``fn`` runs in the calling thread.  With a limit, ``fn`` runs in a
        daemon thread, which Python cannot stop: a call that times out is left
        running in the background until it returns or the process exits, and a
        function that holds the GIL in C code cannot be timed out at all.

    Raises
    ------
    BackpropMismatch
        Some entry disagrees; the message explains which and why.
    GradientFormatError
        ``fn`` returned the wrong type, shape, number of layers or dict keys.
    BackpropTimeout
        A call of ``fn`` did not return within ``timeout`` seconds; the message
        says which call (batch, m, layout, network) and the limit.
    Exception
        Anything ``fn`` raises propagates unchanged, with a note naming the call.

    Examples
    --------
    >>> import numpy as np
    >>> from symgrad import Network
    >>> from symgrad.references.backprop import backprop_function
    >>> net = Network([2, 3, 1], activation="tanh", bias=True)
    >>> assert_backprop_matches(backprop_function(net), net, layout="vector")
    >>> def wrong_sign(params, X, y):
    ...     return -backprop_function(net)(params, X, y)[1]
    >>> try:
    ...     assert_backprop_matches(wrong_sign, net, layout="vector")
    ... except BackpropMismatch as err:
    ...     print(err.diagnoses)
    ['sign']
    """
    __tracebackhide__ = True  # pytest shows the message, not this frame
    _check_options(fn, net, layout, transpose, flat_y, atol, rtol, batches, seed, timeout)
    runner = _Runner(fn, layout, transpose, flat_y, float(atol), float(rtol),
                     None if timeout is None else float(timeout))
    trials = []
    for i in range(batches):
        m = BATCH_SIZES[i % len(BATCH_SIZES)]
        params, X, Y = random_problem(net, seed=seed * 1009 + i, batch=m)
        trials.append(runner.run(net, params, X, Y, label=f"batch {i + 1} of {batches}"))
    failing = [t for t in trials if runner.fails(t)]
    if not failing:
        return None
    findings = diagnose(net, trials, lambda a, b: bool(np.all(runner.close(a, b))))
    minimal, stopped = None, None
    if shrink:
        try:
            minimal = _shrink(runner, failing[0])
        except BackpropTimeout as exc:    # no further calls: each could hang as long
            stopped = str(exc).partition(";")[0]
    message = _message(runner, net, trials, failing, findings, minimal, seed)
    if stopped:
        message += f"\n\nthe search for a smaller failing case stopped: {stopped}"
    raise BackpropMismatch(message, findings, minimal)


def _smaller_nets(net):
    """Same depth, activations, bias and loss; narrower layers, smallest first."""
    s, seen, out = net.spec, {net.spec.widths}, []
    hidden = s.widths[1:-1]
    for widths in ([1] * len(s.widths),
                   [s.widths[0]] + [1] * len(hidden) + [s.widths[-1]],
                   [min(w, 2) for w in s.widths]):
        if s.activations[-1] == "softmax":      # a softmax keeps its classes
            widths[-1] = s.widths[-1]
        if tuple(widths) not in seen:
            seen.add(tuple(widths))
            out.append(Network(widths, activation=list(s.activations), bias=s.bias, loss=s.loss,
                               l2=s.l2, l2_bias=s.l2_bias))
    return sorted(out, key=lambda n: n.spec.n_parameters)


def _attempt(runner, net, params, X, Y):
    """The trial if ``fn`` fails on this case, else None (exceptions count as no)."""
    try:
        trial = runner.run(net, params, X, Y)
    except BackpropTimeout:
        raise
    except Exception:
        return None
    return trial if runner.fails(trial) else None


def _shrink(runner, trial):
    """A smaller failing case: narrower net, fewer samples, rounder numbers."""
    best = trial
    if runner.layout == "matrices":
        for small in _smaller_nets(trial.net):
            found = _attempt(runner, small, *random_problem(small, seed=0, batch=trial.m))
            if found:
                best = found
                break
    rows = [[i] for i in range(best.m)] + [[0, i] for i in range(1, min(best.m, 6))]
    for idx in rows if best.m > 1 else []:
        found = _attempt(runner, best.net, best.params, best.X[idx], best.Y[idx])
        if found:
            best = found
            break
    rounded = [np.round(v, 1) for v in (best.params, best.X, best.Y)]
    if min_kink_distance(best.net, rounded[0], rounded[1]) > 1e-3:
        best = _attempt(runner, best.net, *rounded) or best
    return {"net": best.net, "params": best.params, "X": best.X, "Y": best.Y,
            "yours": best.yours, "true": best.true, "m": best.m,
            "shrunk_from": (trial.net.spec.arch, trial.m)}


def _table(names, yours, true, mask, scale):
    rel = relative_errors(yours, true, scale=scale)
    head = ["parameter", "yours", "true", "rel error", "band"]
    rows = [[n, f"{u: .12e}", f"{t: .12e}", f"{r:.1e}", band(r)]
            for n, u, t, r, bad in zip(names, yours, true, rel, mask) if bad]
    shown = rows[:MAX_ROWS]
    widths = [max(len(r[i]) for r in [head] + shown) for i in range(len(head))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [head] + shown]
    if len(rows) > MAX_ROWS:
        lines.append(f"  ... and {len(rows) - MAX_ROWS} more")
    return lines


def _message(runner, net, trials, failing, findings, minimal, seed):
    names = net.spec.parameter_names()
    sizes = ", ".join(str(t.m) for t in trials)
    lines = [f"your backprop disagrees with the exact gradient of C = (1/m) sum of the "
             f"per-sample {net.loss_name} loss",
             f"network: {net.describe()}; layout {runner.layout!r}"
             + (", transposed weights" if runner.transpose else ""),
             f"tolerance: |yours - true| <= atol + rtol*|true|, atol={runner.atol:g}, "
             f"rtol={runner.rtol:g}",
             f"{len(failing)} of {len(trials)} random batches fail (seed {seed}; "
             f"batch sizes {sizes})", ""]
    first = failing[0]
    bad = ~runner.close(first.yours, first.true)
    scale = float(np.abs(first.true).max(initial=0.0))
    lines.append(f"batch {trials.index(first) + 1} (m={first.m}): {int(bad.sum())} of "
                 f"{len(names)} entries disagree")
    lines += _table(names, first.yours, first.true, bad, scale)
    lines += ["", "diagnosis:"]
    if findings:
        lines += [f"  - {f.text}" for f in findings]
    else:
        lines.append("  - no single known bug pattern (sign, 1/m, factor 2, transpose, "
                     "missing f', one layer) explains every difference; start from the "
                     "entries above")
    if runner.checker.low_precision:
        lines.append("  - note: your function returned float32/float16 arrays; their "
                     "rounding (~1e-7) can exceed rtol; compute in float64 or pass rtol=1e-3")
    if minimal:
        lines += [""] + _minimal_lines(runner, minimal)
    return "\n".join(lines)


def _minimal_lines(runner, case):
    net, m = case["net"], case["m"]
    arch, m0 = case["shrunk_from"]
    lines = [f"smallest failing case found (shrunk from {arch}, m={m0}):",
             f"  network: {net.describe()}",
             f"  the smallest batch that shows it: m={m}"]
    args = arguments(runner.layout, net.spec, case["params"], case["X"], case["Y"],
                     transpose=runner.transpose, flat_y=runner.flat_y)
    labels = {"matrices": ("weights", "biases", "X", "y"), "vector": ("params", "X", "y"),
              "dict": ("params", "X", "y")}[runner.layout]
    for label, value in zip(labels, args):
        lines.append(f"  {label} = {_show(value)}")
    bad = ~runner.close(case["yours"], case["true"])
    scale = float(np.abs(case["true"]).max(initial=0.0))
    return lines + _table(net.spec.parameter_names(), case["yours"], case["true"], bad, scale)


def _show(value):
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return "np.array(" + repr(np.asarray(value).tolist()) + ")"
