"""The descent loop of :func:`symgrad.training.train.train`.

Each epoch is one step (full batch) or one pass of shuffled mini-batches, then the
cost and gradient at the new point.  A step whose parameters, or whose cost, is
not finite is undone and the run stops as ``diverged`` with the last good state.
Ctrl-C in the middle of an epoch puts back the state of the last completed one
(parameters, velocity, cost, gradient, the shuffling generator), so an
interrupted run reports a state the loop really reached.

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

from symgrad.training.symmetry import hidden_layers, siblings_identical

#: Data beyond this size have squares past the float64 range (about 1.8e308).
_SQUARE_LIMIT = 1e154


class Loop:
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
        try:
            self._loop(epochs, tol, progress, costs, path)
        except KeyboardInterrupt:
            self.stop = "interrupted"
            self.message = (f"interrupted (Ctrl-C) after epoch {self.epoch} of {epochs}; "
                            "this is the state reached")
        if (self.stop == "epochs" and self.epoch > 0 and np.array_equal(self.p, self.p0)
                and self.cost):
            self._stationary()
        costs.finish(self.epoch, self.cost)
        path.finish(self.epoch, (self.p.copy(), self.cost))

    def _loop(self, epochs, tol, progress, costs, path):
        while self.epoch < epochs:
            if self.batch is None and not self.grad.any() and not self.v.any():
                self._stationary()
                break
            before, state = self.p, self._state()
            self.previous = self.cost
            try:
                done = self._epoch()
            except KeyboardInterrupt:     # mid-epoch: back to the last completed one
                self._restore(state)
                raise
            if not done:
                break
            self.epoch += 1
            self._record(costs, path)
            if progress is not None:
                progress(self.epoch, epochs, self.cost)
            if self._converged(before, tol):
                break

    def _state(self):
        # p, v and grad are replaced, never changed in place: references suffice.
        return (self.p, self.v, self.cost, self.grad, self.previous, self.sym_now,
                self.separated_at, self.rng.bit_generator.state)

    def _restore(self, state):
        (self.p, self.v, self.cost, self.grad, self.previous, self.sym_now,
         self.separated_at, self.rng.bit_generator.state) = state

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
