"""Gradient descent on the network: the seed's linear-regression use.

:func:`train` runs (full-batch, optionally mini-batch and momentum) gradient
descent with the exact gradients from :func:`symgrad.compile_gradients` and
returns a :class:`TrainingResult` with the cost history, the parameter
trajectory, and, for linear networks, the effective linear map compared with
least squares (:func:`symgrad.training.fit.least_squares`).

The loop itself, and how it keeps sibling neurons and Ctrl-C honest, is in
:mod:`symgrad.training.loop`.
"""

from __future__ import annotations

import numpy as np

from symgrad.backends import compile_gradients
from symgrad.backends.auto import choose_backend, training_work
from symgrad.errors import DataError, SpecError, SpecTypeError
from symgrad.limits import MAX_COST_POINTS, MAX_DATA_CELLS
from symgrad.network import Network
from symgrad.spec import check_batch
from symgrad.training.classes import accuracy
from symgrad.training.data import check_split
from symgrad.training.fit import float_note, input_rank, least_squares, linear_map
from symgrad.training.history import Record
from symgrad.training.loop import Loop
from symgrad.training.report import TrainingResult
from symgrad.training.symmetry import (
    INITS,
    hidden_layers,
    initial_parameters,
    layers,
    sibling_equalities,
    sibling_gap,
    start,
)

__all__ = ["INITS", "TrainingInterrupted", "TrainingResult", "effective_map",
           "initial_parameters", "sibling_equalities", "train"]

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


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`: still a ``KeyboardInterrupt``, carrying the
    :class:`TrainingResult` of the last completed epoch as ``result``
    (``stop == "interrupted"``)."""

    def __init__(self, result: TrainingResult) -> None:
        super().__init__(result.message)
        self.result = result


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
        ``"numpy"`` or ``"numba"`` (see :func:`symgrad.compile_gradients`), or
        ``"auto"``: whichever is estimated to finish the run first, from a timing of
        the numpy backend on the data and whether numba's kernel is already compiled
        (:func:`symgrad.backends.auto.choose_backend`); ``settings["backend_reason"]``
        of the result says why.
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

    Raises ``TrainingInterrupted`` (a ``KeyboardInterrupt``) on Ctrl-C after the
    first epoch; its ``result`` is the state after the last completed epoch.

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
    f, why = _gradient(net, backend, p0, X, Y, training_work(X.shape[0], epochs, batch_size))
    loop = Loop(spec, f, X, Y, p0, lr, momentum, batch_size, seed)
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
                      "tol": float(tol), "backend": f.backend, "backend_reason": why},
            equalities=sibling_equalities(spec), split=split)
        _compare(result, X, Y)
        result.accuracy = accuracy(spec, result.params, X, Y)
    if result.stop == "interrupted":
        raise TrainingInterrupted(result)
    return result


def _gradient(net, backend, p0, X, Y, work):
    """The compiled gradient, and why ``auto`` picked its backend (None when named)."""
    if backend != "auto":
        return compile_gradients(net, backend=backend), None
    f = compile_gradients(net, backend="numpy")
    choice = choose_backend(net, f, p0, X, Y, work)
    if choice.backend != "numpy":
        f = compile_gradients(net, backend=choice.backend)
    return f, choice.reason


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
    if spec.loss in ("half-squared", "squared"):
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
