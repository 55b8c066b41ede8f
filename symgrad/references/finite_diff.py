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
from symgrad.spec import KINKED_ACTIVATIONS, LEAKY_SLOPE_DEN, LEAKY_SLOPE_NUM, check_batch

EPS = float(np.finfo(float).eps)
#: Relative central-difference step: eps**(1/3).
CENTRAL_STEP = EPS ** (1.0 / 3.0)
#: Complex step size; any value far below sqrt(eps) works, 1e-20 is customary.
COMPLEX_STEP = 1e-20
METHODS = ("central", "complex")
#: Below this |Re z|, erf by its Maclaurin series; above, erfc by a continued fraction.
_ERF_SWITCH = 2.0


def _erf(z):
    """erf of a real or complex array, from its series and continued fraction.

    numpy has no erf, and the complex step needs it at complex points; both parts
    are accurate to about 1e-13 near the real axis, where the complex step looks.
    """
    z = np.asarray(z, dtype=complex)
    out = np.empty_like(z)
    near = np.abs(z.real) < _ERF_SWITCH
    # erf z = 2/sqrt(pi) sum_n (-1)**n z**(2n+1) / (n! (2n+1))
    zs = z[near]
    term, total = zs.copy(), zs.copy()
    for n in range(1, 60):
        term = term * (-zs * zs) / n
        total = total + term / (2 * n + 1)
    out[near] = total * (2.0 / np.sqrt(np.pi))
    # erfc w = exp(-w**2) / sqrt(pi) / (w + (1/2)/(w + 1/(w + (3/2)/(w + ...)))), Re w > 0
    sign = np.where(z[~near].real < 0, -1.0, 1.0)
    w = z[~near] * sign
    f = w.copy()
    for n in range(400, 0, -1):
        f = w + (n / 2) / f
    out[~near] = sign * (1.0 - np.exp(-w * w) / (np.sqrt(np.pi) * f))
    return out


def _apply(name, z):
    # Works for complex z; the piecewise ones compare the real part only.
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
    if name == "elu":
        return np.where(z.real > 0, z, np.expm1(np.where(z.real > 0, 0, z)))
    if name == "gelu":
        gelu = z * (1 + _erf(z / np.sqrt(2))) / 2
        return gelu if np.iscomplexobj(z) else gelu.real
    if name == "gelu_tanh":
        return z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3))) / 2
    if name == "silu":
        return z / (1 + np.exp(-z))
    if name == "hardtanh":
        return np.where(z.real > 1, 1, np.where(z.real < -1, -1, z))
    if name == "softmax":     # each row; z - max(Re z) keeps exp from overflowing
        e = np.exp(z - z.real.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise SpecError(f"unknown activation {name!r}")


def cost(spec, params, X, Y):
    """C = mean over samples of the loss; ``params`` may be complex."""
    a = X.astype(params.dtype)
    at = 0
    layers = list(zip(spec.widths[:-1], spec.widths[1:]))
    bias_at = bias_start = sum(i * o for i, o in layers)
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
    elif spec.loss == "cross-entropy":
        # log of the softmax from z itself: log a_j = z_j - max - log sum_k exp(z_k - max)
        top = z.real.max(axis=1, keepdims=True)
        log_a = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
        per = -(Y * log_a).sum(axis=1)
    else:
        per = -(Y * np.log(a) + (1 - Y) * np.log(1 - a)).sum(axis=1)
    # L2: (lambda/2) sum w**2 over the weights (and the biases with l2_bias)
    penalised = params[:bias_start if not spec.l2_bias else len(params)]
    return per.sum() / X.shape[0] + spec.l2 / 2 * (penalised * penalised).sum()


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
            kinked = ", ".join(sorted(KINKED_ACTIVATIONS))
            raise SpecError(f"the complex step needs analytic activations; {kinked} are not "
                            "(use method='central')")
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
