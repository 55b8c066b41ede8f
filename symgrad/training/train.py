"""Gradient descent on the network: the seed's linear-regression use.

:func:`train` runs (full-batch, optionally mini-batch and momentum) gradient
descent with the exact gradients from :func:`symgrad.compile_gradients` and
returns a :class:`TrainingResult` with the cost history, the parameter
trajectory, and, for linear networks, the effective linear map compared with
least squares (:func:`symgrad.training.fit.least_squares`).

Symmetry
--------
Two hidden neurons of one layer are *siblings*.  With ``init="symmetric"`` every
hidden neuron of a layer starts with the same incoming weights, the same bias and
the same outgoing weights; the chain rule then gives siblings the same gradient,
so plain gradient descent keeps them identical.  That is a property of the
starting point, not of the gradients: from a random start they differ and stay
different.  symgrad checks equality with ``==`` after every step.

In floating point the equality survives only if the computer adds up the same
numbers in the same order for every sibling.  numpy's matrix products call BLAS,
which may treat the last few rows of a matrix with a different kernel from the
rest; with OpenBLAS this keeps widths 2, 3, 4, 8, 12, 16, ... bit-identical but
separates, e.g., 5 siblings after a few steps by rounding (about 1e-16).  The
result then says at which epoch the first bit differed and how far apart the
siblings ended.
"""

from __future__ import annotations

import numpy as np

from symgrad.backends import compile_gradients
from symgrad.errors import DataError, SpecError, SpecTypeError
from symgrad.limits import MAX_COST_POINTS, MAX_DATA_CELLS
from symgrad.network import Network
from symgrad.spec import check_batch
from symgrad.training.data import check_split
from symgrad.training.fit import float_note, input_rank, least_squares, linear_map
from symgrad.training.history import Record
from symgrad.training.report import TrainingResult
from symgrad.training.symmetry import (
    INITS,
    hidden_layers,
    initial_parameters,
    layers,
    sibling_equalities,
    sibling_gap,
    siblings_identical,
    start,
)

__all__ = ["INITS", "TrainingResult", "effective_map", "initial_parameters", "sibling_equalities",
           "train"]

def _check_options(epochs, lr, momentum, batch_size, record_every, tol, seed, backend,
                   progress):
    def integer(name, value, low):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise SpecTypeError(f"{name} must be an integer, got {type(value).__name__} "
                                f"{_short(value)}")
        if value < low:
            raise SpecError(f"{name} must be at least {low}, got {value}")

    integer("epochs", epochs, 0)
    integer("record_every", record_every, 1)
    integer("seed", seed, 0)
    if batch_size is not None:
        integer("batch_size", batch_size, 1)
    if not isinstance(backend, str):
        raise SpecTypeError(f"backend must be a name such as 'numpy' or 'auto', got "
                            f"{type(backend).__name__} {_short(backend)}")
    if progress is not None and not callable(progress):
        raise SpecTypeError(f"progress must be a function progress(epoch, epochs, cost) or "
                            f"None, got {type(progress).__name__}")
    for name, value, ok, rule in [("lr", lr, lambda v: v > 0, "> 0"),
                                  ("momentum", momentum, lambda v: 0 <= v < 1, "in [0, 1)"),
                                  ("tol", tol, lambda v: v >= 0, ">= 0")]:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                             np.integer)):
            raise SpecTypeError(f"{name} must be a number, got {type(value).__name__} "
                                f"{_short(value)}")
        if not (np.isfinite(value) and ok(value)):
            raise SpecError(f"{name} must be finite and {rule}, got {value!r}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_targets(spec, Y) -> None:
    """The bce loss reads targets as probabilities: each in [0, 1]."""
    if spec.loss != "bce":
        return
    bad = np.flatnonzero(((Y < 0) | (Y > 1)).any(axis=1))
    if bad.size:
        row = int(bad[0])
        value = Y[row][(Y[row] < 0) | (Y[row] > 1)][0]
        more = f" ({bad.size} samples in all)" if bad.size > 1 else ""
        raise DataError(f"the bce loss needs targets in [0, 1] (probabilities); sample "
                        f"{row + 1} has y = {value:g}{more}; use another loss or rescale y")


def train(net, X, y, *, epochs=1000, lr=0.01, init="random", seed=0, momentum=0.0,
          batch_size=None, record_every=1, tol=0.0, split=None, backend="auto",
          progress=None) -> TrainingResult:
    """Fit the network to ``(X, y)`` by gradient descent on the mean loss.

    Parameters
    ----------
    net : Network
    X, y : arrays (m, n_inputs) and (m,) or (m, n_outputs)
    epochs : int
        Passes over the data (each one step when full-batch).
    lr, momentum : float
        Step ``v = momentum*v - lr*grad; p = p + v`` (momentum 0: plain descent).
    init : {"random", "symmetric", "zeros"} or array
        Starting point (see :func:`initial_parameters`), drawn from ``seed``.
    batch_size : int, optional
        Mini-batch size (samples shuffled each epoch from ``seed``); None: full batch.
    record_every : int
        Keep the parameters every this many epochs (and the last) in ``trajectory``.
        However long the run, the record holds at most
        :data:`symgrad.limits.MAX_COST_POINTS` points (and at most
        :data:`symgrad.limits.MAX_DATA_CELLS` numbers): past that it is thinned
        evenly, keeping the first and the last (:mod:`symgrad.training.history`).
        The costs are recorded the same way, at every epoch up to that many.
    tol : float
        Stop as converged when the cost changes by at most ``tol`` in an epoch (0: never).
    split : float, optional
        The ``a`` of :func:`symgrad.training.data.split_feature` if ``X`` was built with it;
        the result then reports the effective slope on the original ``x``.
    backend : str
        Passed to :func:`symgrad.compile_gradients` (``"auto"``: numba when installed).
    progress : callable, optional
        Called as ``progress(epoch, epochs, cost)`` after every epoch.

    Raises
    ------
    SpecError, SpecTypeError
        An option with a bad value or type (``seed="abc"``, ``epochs=2.5``).
    ShapeError, DataError
        ``X`` and ``y`` that do not fit the network, are not finite, or (for the
        ``bce`` loss) targets outside [0, 1].

    Returns
    -------
    TrainingResult
        ``stop`` is ``"converged"``, ``"epochs"``, ``"stationary"`` (the gradient
        is exactly zero at a point that does not fit: a saddle such as all-zero
        weights) or ``"diverged"`` (the cost became NaN/inf; the last good state
        is kept).

    Examples
    --------
    >>> import numpy as np
    >>> from symgrad import Network
    >>> x = np.linspace(-1, 1, 20)
    >>> X = np.column_stack([0.3 * x, 0.7 * x])
    >>> result = train(Network([2, 2, 1]), X, 3 * x, epochs=2000, lr=0.5, split=0.3,
    ...                backend="numpy")
    >>> bool(abs(result.effective_map["slope"] - 3) < 1e-9), result.stop
    (True, 'converged')
    """
    if not isinstance(net, Network):
        raise SpecTypeError(f"train needs a Network, got {type(net).__name__}")
    spec = net.spec
    _check_options(epochs, lr, momentum, batch_size, record_every, tol, seed, backend,
                   progress)
    split = None if split is None else check_split(split)
    p0, init_name = start(spec, init, seed)
    _, X, Y = check_batch(spec, p0, X, y)
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise DataError("X and y must be finite (no NaN or inf)")
    _check_targets(spec, Y)
    f = compile_gradients(net, backend=backend)
    loop = _Loop(spec, f, X, Y, p0, lr, momentum, batch_size, seed)
    points = min(MAX_COST_POINTS, max(2, MAX_DATA_CELLS // max(1, spec.n_parameters)))
    costs, path = Record(MAX_COST_POINTS), Record(points, record_every)
    with np.errstate(all="ignore"):         # overflow is reported in words, not warnings
        loop.run(epochs, tol, progress, costs, path)
        result = TrainingResult(
            net=net, names=spec.parameter_names(), initial=p0, params=loop.p,
            costs=np.array(costs.values), cost_epochs=np.array(costs.epochs, dtype=int),
            recorded=np.array(path.epochs, dtype=int),
            trajectory=np.array([p for p, _ in path.values]),
            recorded_costs=np.array([c for _, c in path.values]),
            epochs_run=loop.epoch, epochs=epochs,
            stop=loop.stop, message=loop.message, gradient=loop.grad,
            symmetric_start=loop.sym_start, separated_at=loop.separated_at,
            gap=sibling_gap(spec, loop.p) if hidden_layers(spec) else None,
            settings={"init": init_name, "seed": seed, "lr": float(lr),
                      "momentum": float(momentum), "batch_size": batch_size,
                      "tol": float(tol), "backend": f.backend},
            equalities=sibling_equalities(spec), split=split)
        _compare(result, X, Y)
    return result


def effective_map(spec, params, *, split=None) -> dict:
    """The linear map a linear network computes: ``W_L @ ... @ W_1`` and the bias part.

    Only meaningful when every activation is linear.  Layout as
    :func:`symgrad.training.fit.linear_map`; with ``split`` = a it includes the slope on x.

    Examples
    --------
    >>> from symgrad import Network
    >>> eff = effective_map(Network([2, 2, 1]).spec, [1, 2, 3, 4, 5, 6], split=0.5)
    >>> eff["coefficients"], eff["slope"]   # c1 = 5*1 + 6*3, c2 = 5*2 + 6*4
    ({'x1': 23.0, 'x2': 34.0}, 28.5)
    """
    Ws, bs = layers(spec, np.asarray(params, dtype=float))
    M, c = np.eye(spec.widths[0]), np.zeros(spec.widths[0])
    for W, b in zip(Ws, bs):
        M, c = W @ M, W @ c + b     # y = W (M x + c) + b
    return linear_map(M, c, split=split)


def _compare(result, X, Y):
    """Fill the effective map, least squares and their agreement (linear nets)."""
    spec = result.net.spec
    result.rank = input_rank(X)
    if spec.loss != "bce":
        result.least_squares = least_squares(X, Y, intercept=spec.bias, split=result.split,
                                             loss=spec.loss)
        if not np.isfinite(result.least_squares["cost"]):
            largest = float(max(np.abs(X).max(), np.abs(Y).max()))
            result.notes.append(float_note("the least-squares cost", largest))
    if not result.linear:
        return
    eff = result.effective_map = effective_map(spec, result.params, split=result.split)
    ls = result.least_squares
    if "slope" in eff:
        what, a, b = "slope on x", eff["slope"], ls["slope"]
    elif result.rank == spec.n_inputs:
        what, a, b = "coefficients", list(eff["coefficients"].values()), \
            list(ls["coefficients"].values())
    else:
        def predict(m):
            C = np.array(list(m["coefficients"].values()), dtype=float).reshape(X.shape[1], -1)
            return X @ C + np.asarray(m["intercept"])
        what, a, b = "predictions on the data", predict(eff), predict(ls)
    diff = float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))
    if spec.bias:
        diff = max(diff, float(np.max(np.abs(np.subtract(eff["intercept"], ls["intercept"])))))
        what += " and intercept"
    result.agreement = {"compared": what, "difference": diff}


#: Data beyond this size have squares past the float64 range (about 1.8e308).
_SQUARE_LIMIT = 1e154


class _Loop:
    """The descent loop's state; :meth:`run` fills costs, trajectory and stop."""

    def __init__(self, spec, f, X, Y, p0, lr, momentum, batch_size, seed):
        self.spec, self.f, self.X, self.Y = spec, f, X, Y
        self.lr, self.momentum = float(lr), float(momentum)
        m = X.shape[0]
        self.batch = None if batch_size is None or batch_size >= m else batch_size
        self.rng = np.random.default_rng([seed, 1])
        self.p0 = p0
        self.p, self.v = p0.copy(), np.zeros_like(p0)
        self.largest = float(max(np.abs(X).max(), np.abs(Y).max()))
        self.previous = float("nan")             # the cost one epoch before self.cost
        self.epoch, self.stop, self.message = 0, "epochs", ""
        has_siblings = bool(hidden_layers(spec))
        self.sym_start = siblings_identical(spec, p0) if has_siblings else None
        self.sym_now = bool(self.sym_start)
        self.separated_at = None
        self.cost = float("nan")                 # both set by run() before any step
        self.grad: np.ndarray = np.full_like(p0, np.nan)

    def _step(self, grad):
        """One update; returns False (and leaves the state alone) when it is not finite."""
        v = self.momentum * self.v - self.lr * grad
        p = self.p + v
        if not (np.isfinite(p).all() and np.isfinite(v).all()):
            return False
        self.p, self.v = p, v
        if self.sym_now and not siblings_identical(self.spec, p):
            self.sym_now, self.separated_at = False, self.epoch + 1
        return True

    def _diverged(self, what):
        self.stop = "diverged"
        self.message = (f"diverged in epoch {self.epoch + 1}: {what} became NaN or infinite "
                        f"(lr {self.lr:g} is too large for this data; try a smaller lr); "
                        f"kept the last good state, from epoch {self.epoch}")

    def _epoch(self):
        """One pass; returns False on divergence."""
        good_p, good_v, good_sym = self.p, self.v, (self.sym_now, self.separated_at)
        if self.batch is None:
            ok = self._step(self.grad)
        else:
            order = self.rng.permutation(self.X.shape[0])
            ok = True
            for start in range(0, len(order), self.batch):
                rows = order[start:start + self.batch]
                _, g = self.f(self.p, self.X[rows], self.Y[rows])
                if not (np.isfinite(g).all() and self._step(g)):
                    ok = False
                    break
        if ok:
            cost, grad = self.f(self.p, self.X, self.Y)
            if np.isfinite(cost) and np.isfinite(grad).all():
                self.cost, self.grad = float(cost), grad
                return True
        self.p, self.v = good_p, good_v
        self.sym_now, self.separated_at = good_sym
        self._diverged("the parameters" if not ok else "the cost")
        return False

    def run(self, epochs, tol, progress, costs, path):
        """Run up to ``epochs`` epochs, recording into the :class:`Record` s ``costs``
        (the cost) and ``path`` (the parameters and the cost)."""
        cost, self.grad = self.f(self.p, self.X, self.Y)
        self.cost = float(cost)
        self._record(costs, path)
        if not (np.isfinite(cost) and np.isfinite(self.grad).all()):
            self.stop = "diverged"
            self.message = "the cost is NaN or infinite at the starting point"
            if self.largest > _SQUARE_LIMIT:
                self.message += (f": the data reach {self.largest:.3g}, and their squares "
                                 "overflow float64 (largest about 1.8e308); rescale the data "
                                 "(divide X and y by a power of 10)")
            return
        while self.epoch < epochs:
            if self.batch is None and not self.grad.any() and not self.v.any():
                self._stationary()
                break
            before = self.p
            self.previous = self.cost
            if not self._epoch():
                break
            self.epoch += 1
            self._record(costs, path)
            if progress is not None:
                progress(self.epoch, epochs, self.cost)
            if self._converged(before, tol):
                break
        if (self.stop == "epochs" and self.epoch > 0 and np.array_equal(self.p, self.p0)
                and self.cost):
            self._stationary()
        costs.finish(self.epoch, self.cost)
        path.finish(self.epoch, (self.p.copy(), self.cost))

    def _record(self, costs, path):
        costs.add(self.epoch, self.cost)
        if path.wants(self.epoch):
            path.add(self.epoch, (self.p.copy(), self.cost))

    def _converged(self, before, tol):
        change = abs(self.previous - self.cost)
        if tol and change <= tol:
            self.stop = "converged"
            self.message = (f"converged in epoch {self.epoch}: the cost changed by "
                            f"{change:.2g} <= tol {tol:g}")
        elif self.batch is None and not self.momentum and np.array_equal(before, self.p):
            self.stop = "converged"
            self.message = (f"converged in epoch {self.epoch}: the update no longer changes "
                            "any parameter (a fixed point in float64)")
        return self.stop == "converged"

    def _stationary(self):
        if self.cost == 0.0:
            self.stop = "converged"
            self.message = f"converged in epoch {self.epoch}: the cost is exactly 0"
            return
        self.stop = "stationary"
        why = ""
        if not self.p.any():
            why = (" (every weight is 0: each weight's gradient has a factor that is 0, the "
                   "outgoing weight or the hidden activation, so all-zero weights are a saddle)")
        self.message = (
            f"stuck in epoch {self.epoch}: the gradient is exactly zero although the cost is "
            f"{self.cost:.6g}; this is a stationary point, not a fit{why}. Gradient descent "
            "cannot leave it; start elsewhere, e.g. init 'random'")
