"""Hand-written numpy backprop: the second, independent reference.

Written the way a person writes backprop from a textbook (Nielsen's BP1-BP4), with
weight matrices and hand-coded activation derivatives.  It imports no SymPy and
shares nothing with :mod:`symgrad.derive` except the network spec, so agreement
between the two is evidence, not an echo.

>>> import numpy as np
>>> from symgrad import Network
>>> f = backprop_function(Network([2, 2, 1]))
>>> cost, grad = f(np.ones(6), np.array([[1.0, 2.0]]), np.array([1.0]))
>>> cost, grad.tolist()
(12.5, [5.0, 10.0, 5.0, 10.0, 15.0, 15.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from symgrad.spec import LEAKY_SLOPE_DEN, LEAKY_SLOPE_NUM, NetworkSpec, check_batch

LEAKY = LEAKY_SLOPE_NUM / LEAKY_SLOPE_DEN
#: GELU's tanh approximation: 0.5 z (1 + tanh(sqrt(2/pi) (z + GELU_C z**3))).
GELU_C = 0.044715
_ROOT_2_PI = math.sqrt(2.0 / math.pi)
_erf = np.vectorize(math.erf, otypes=[float])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class WithSpec(Protocol):
    """A :class:`symgrad.Network`, as far as this module needs one (it imports no network)."""

    @property
    def spec(self) -> NetworkSpec: ...


#: ``f(params, X, y) -> (cost, dC/dparams)``, as :func:`backprop_function` returns.
GradientFunction = Callable[[ArrayLike, ArrayLike, ArrayLike], "tuple[float, np.ndarray]"]


def _forward_activation(name, z):
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY * z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    if name == "gelu":
        return 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))
    if name == "gelu_tanh":
        return 0.5 * z * (1.0 + np.tanh(_ROOT_2_PI * (z + GELU_C * z ** 3)))
    if name == "silu":
        return z * _sigmoid(z)
    if name == "hardtanh":
        return np.clip(z, -1.0, 1.0)
    if name == "softmax":                   # each row; exp of z - max cannot overflow
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(name)


def _activation_slope(name, z, a):
    """da/dz, written by hand; ReLU's slope at exactly 0 is taken as 0."""
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY)
    if name == "softplus":
        return _sigmoid(z)
    if name == "elu":                       # exp(z) = a + 1 below 0; 1 at 0 either way
        return np.where(z > 0, 1.0, a + 1.0)
    if name == "gelu":                      # Phi(z) + z phi(z)
        return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(
            2.0 * math.pi)
    if name == "gelu_tanh":
        t = np.tanh(_ROOT_2_PI * (z + GELU_C * z ** 3))
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _ROOT_2_PI * (1.0 + 3 * GELU_C * z * z)
    if name == "silu":                      # s + z s (1 - s)
        s = _sigmoid(z)
        return s * (1.0 + z * (1.0 - s))
    if name == "hardtanh":                  # 0 at the corners -1 and 1 (PyTorch's choice)
        return (np.abs(z) < 1.0).astype(float)
    raise ValueError(name)


def _loss_and_slope(name, yhat, y):
    """Per-sample loss (summed over outputs) and dL/dyhat."""
    r = yhat - y
    if name == "half-squared":
        return 0.5 * np.sum(r * r, axis=1), r
    if name == "squared":
        return np.sum(r * r, axis=1), 2.0 * r
    if name == "bce":
        loss = -(y * np.log(yhat) + (1.0 - y) * np.log(1.0 - yhat))
        return np.sum(loss, axis=1), (yhat - y) / (yhat * (1.0 - yhat))
    if name == "cross-entropy":             # dL/dyhat is not needed: see backprop()
        with np.errstate(divide="ignore"):
            logs = np.where(y > 0, np.log(yhat), 0.0)
        return -np.sum(y * logs, axis=1), None
    raise ValueError(name)


def unpack(spec: NetworkSpec, params: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a flat parameter vector into weight matrices and bias vectors.

    ``weights[l]`` has shape (widths[l+1], widths[l]) (row = to-neuron); biases
    follow all weights.  Returns ``(weights, biases)``; ``biases`` is empty
    without bias.
    """
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    at = 0
    for n_in, n_out in zip(spec.widths[:-1], spec.widths[1:]):
        weights.append(params[at:at + n_in * n_out].reshape(n_out, n_in))
        at += n_in * n_out
    if spec.bias:
        for n_out in spec.widths[1:]:
            biases.append(params[at:at + n_out])
            at += n_out
    return weights, biases


def forward(spec: NetworkSpec, params: np.ndarray,
            X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward pass: lists of every layer's z (m, width) and a (``a[0]`` is X)."""
    weights, biases = unpack(spec, params)
    zs: list[np.ndarray] = []
    activations = [X]
    for l, W in enumerate(weights):
        z = activations[-1] @ W.T
        if spec.bias:
            z = z + biases[l]
        zs.append(z)
        activations.append(_forward_activation(spec.activations[l], z))
    return zs, activations


def backprop(net: WithSpec | NetworkSpec, params: ArrayLike, X: ArrayLike,
             y: ArrayLike) -> tuple[float, np.ndarray]:
    """Cost C and dC/dparams by a hand-written forward and backward pass.

    Same call signature and result as :func:`symgrad.compile_gradients`'s
    function, with the network passed first.
    """
    spec = net if isinstance(net, NetworkSpec) else net.spec
    params, X, Y = check_batch(spec, params, X, y)
    weights, _ = unpack(spec, params)
    m = X.shape[0]
    zs, activations = forward(spec, params, X)
    losses, dloss = _loss_and_slope(spec.loss, activations[-1], Y)
    cost = float(np.mean(losses))

    # Backward (BP1): delta at the output = dL/da * f'(z); for a softmax output with
    # cross-entropy (the only loss it takes) the Jacobian gives the textbook a - y,
    # since every target row sums to 1.
    if spec.activations[-1] == "softmax":
        delta = activations[-1] - Y
    else:
        delta = dloss * _activation_slope(spec.activations[-1], zs[-1], activations[-1])
    w_grads: list[np.ndarray] = []                       # filled from the top layer down,
    b_grads: list[np.ndarray] = []                       # each in front of the one above
    for l in range(len(weights) - 1, -1, -1):
        w_grads.insert(0, delta.T @ activations[l] / m)  # BP4
        b_grads.insert(0, delta.sum(axis=0) / m)         # BP3
        if l > 0:                                        # BP2
            delta = (delta @ weights[l]) * _activation_slope(
                spec.activations[l - 1], zs[l - 1], activations[l])
    if spec.l2:                          # (lambda/2) sum w**2 adds lambda w to each gradient
        penalised = list(weights)
        w_grads = [g + spec.l2 * W for g, W in zip(w_grads, weights)]
        if spec.l2_bias:
            biases = unpack(spec, params)[1]
            b_grads = [g + spec.l2 * b for g, b in zip(b_grads, biases)]
            penalised += biases
        cost += 0.5 * spec.l2 * sum(float(np.sum(p * p)) for p in penalised)
    parts = [g.ravel() for g in w_grads] + (b_grads if spec.bias else [])
    return cost, np.concatenate(parts)


def backprop_function(net: WithSpec | NetworkSpec) -> GradientFunction:
    """Return ``f(params, X, y) -> (cost, grad)`` running :func:`backprop` for ``net``."""

    def f(params: ArrayLike, X: ArrayLike, y: ArrayLike) -> tuple[float, np.ndarray]:
        return backprop(net, params, X, y)

    f.__doc__ = "Hand-written numpy backprop; returns (cost, dC/dparams)."
    return f
