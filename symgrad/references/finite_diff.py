"""Finite differences: the third, independent reference.

Only the cost is evaluated here, by a forward pass of this module's own that works
in real or complex arithmetic; no derivative formula is used anywhere.  It imports
no SymPy and does not use :mod:`symgrad.references.backprop`.

Step rules
----------
Central differences ``(C(p + h e_i) - C(p - h e_i)) / (2h)`` have truncation error
about ``h**2 * C'''/6`` and round-off error about ``eps * |C| / h``; both balance at
``h ~ eps**(1/3)``.  symgrad uses ``h_i = eps**(1/3) * max(1, |p_i|)`` (about
6e-6 for parameters of size 1), which gives relative errors near 1e-10 on smooth
networks.

The complex step ``Im(C(p + i h e_i)) / h`` has no subtraction, hence no round-off
from cancellation, and with ``h = 1e-20`` it is exact to machine precision, but
only when every function on the path is analytic: not for relu or leaky_relu
(:data:`symgrad.spec.ANALYTIC_ACTIVATIONS`).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import SpecError
from symgrad.spec import LEAKY_SLOPE_DEN, LEAKY_SLOPE_NUM, check_batch

EPS = float(np.finfo(float).eps)
#: Relative central-difference step: eps**(1/3).
CENTRAL_STEP = EPS ** (1.0 / 3.0)
#: Complex step size; any value far below sqrt(eps) works, 1e-20 is customary.
COMPLEX_STEP = 1e-20
METHODS = ("central", "complex")


def _apply(name, z):
    # Works for complex z; relu/leaky_relu compare the real part only.
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softplus":
        return np.log(1 + np.exp(z))
    if name == "relu":
        return np.where(z.real > 0, z, 0)
    if name == "leaky_relu":
        return np.where(z.real > 0, z, z * (LEAKY_SLOPE_NUM / LEAKY_SLOPE_DEN))
    raise SpecError(f"unknown activation {name!r}")


def cost(spec, params, X, Y):
    """C = mean over samples of the loss; ``params`` may be complex."""
    a = X.astype(params.dtype)
    at = 0
    layers = list(zip(spec.widths[:-1], spec.widths[1:]))
    bias_at = sum(i * o for i, o in layers)
    for l, (n_in, n_out) in enumerate(layers):
        W = params[at:at + n_in * n_out].reshape(n_out, n_in)
        at += n_in * n_out
        z = np.einsum("jk,ik->ij", W, a)
        if spec.bias:
            z = z + params[bias_at:bias_at + n_out]
            bias_at += n_out
        a = _apply(spec.activations[l], z)
    if spec.loss == "half-squared":
        per = ((Y - a) ** 2).sum(axis=1) / 2
    elif spec.loss == "squared":
        per = ((Y - a) ** 2).sum(axis=1)
    else:
        per = -(Y * np.log(a) + (1 - Y) * np.log(1 - a)).sum(axis=1)
    return per.sum() / X.shape[0]


def central_steps(params) -> np.ndarray:
    """The step for each parameter: ``eps**(1/3) * max(1, |p|)``."""
    return CENTRAL_STEP * np.maximum(1.0, np.abs(params))


def finite_differences(net, params, X, y, *, method="central", h=None):
    """Estimate dC/dparams by central differences or the complex step.

    Parameters
    ----------
    net : Network or NetworkSpec
    params, X, y : arrays as for :func:`symgrad.compile_gradients`
    method : {"central", "complex"}
    h : float or array, optional
        Step (absolute).  Default: :func:`central_steps` for central, 1e-20 for
        complex.

    Returns
    -------
    (cost, grad) : float and float array, like the compiled gradient.

    Raises
    ------
    SpecError
        ``method="complex"`` on a network with a non-analytic activation.

    Examples
    --------
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> c, g = finite_differences(net, np.ones(6), [[1.0, 2.0]], [1.0], method="complex")
    >>> g.tolist()
    [5.0, 10.0, 5.0, 10.0, 15.0, 15.0]
    """
    spec = getattr(net, "spec", net)
    params, X, Y = check_batch(spec, params, X, y)
    if method not in METHODS:
        raise SpecError(f"unknown finite-difference method {method!r} (choices: central, complex)")
    base = float(cost(spec, params, X, Y))
    grad = np.empty_like(params)
    if method == "complex":
        if not spec.analytic:
            raise SpecError(
                "the complex step needs analytic activations; relu and leaky_relu are not "
                "(use method='central')"
            )
        steps = np.broadcast_to(COMPLEX_STEP if h is None else h, params.shape)
        shifted = params.astype(complex)
        for i in range(params.size):
            shifted[i] = params[i] + 1j * steps[i]
            grad[i] = cost(spec, shifted, X, Y).imag / steps[i]
            shifted[i] = params[i]
        return base, grad
    steps = central_steps(params) if h is None else np.broadcast_to(h, params.shape)
    shifted = params.copy()
    for i in range(params.size):
        shifted[i] = params[i] + steps[i]
        up = cost(spec, shifted, X, Y)
        shifted[i] = params[i] - steps[i]
        down = cost(spec, shifted, X, Y)
        shifted[i] = params[i]
        # Divide by the step actually taken (p+h)-(p-h), which differs from 2h
        # by rounding: the usual trick to remove one source of error.
        taken = (params[i] + steps[i]) - (params[i] - steps[i])
        grad[i] = (up - down) / taken
    return base, grad
