"""From-scratch numpy backprops, one correct and several with a classic bug each.

Written the way a student writes them (weights[l] of shape (n_out, n_in), row =
to-neuron), independently of symgrad's own code.  ``make_backprop(...)`` returns
``fn(weights, biases, X, y) -> (weight_grads, bias_grads)`` for the "matrices"
layout of :func:`symgrad.testing.assert_backprop_matches`; each keyword switches
one bug on.
"""

from __future__ import annotations

import numpy as np


def _act(name, z):
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(name)


def _act_prime(name, z):
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        s = _act("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    raise ValueError(name)


def _layers(value):
    return () if value is None else (value,) if isinstance(value, int) else tuple(value)


def make_backprop(activations, loss="half-squared", *, sign=1.0, mean=True,
                  loss_factor=1.0, skip_fprime_layer=None, transpose_layer=None,
                  prime_of_a_layer=None, bias_sign=1.0, mse_delta_for_bce=False,
                  noise=0.0):
    """A backprop for a net with per-layer ``activations``; keywords add one bug each.

    sign=-1: returns the negative gradient.  mean=False: sums over the batch.
    loss_factor=2: differentiates (y - yhat)**2 when the loss is half-squared.
    skip_fprime_layer=l: forgets f'(z) in layer l (1-based; or a tuple of layers).
    transpose_layer=l: returns dC/dW of layer l transposed (square layers) or
    reshaped (others).  prime_of_a_layer=l: applies f' to a instead of z.
    bias_sign=-1: flips the bias gradients only.  mse_delta_for_bce=True: uses
    (yhat - y) * sigmoid'(z) as the output delta of a cross-entropy net.
    noise=e: adds e * cos(1 + index) to every weight gradient (no known pattern).
    """

    def backprop(weights, biases, X, y):
        y = y.reshape(len(X), -1)
        a, zs, acts = X, [], [X]
        for l, W in enumerate(weights):
            z = a @ W.T + (biases[l] if biases else 0.0)
            a = _act(activations[l], z)
            zs.append(z)
            acts.append(a)
        m = len(X) if mean else 1
        if loss == "bce" and not mse_delta_for_bce:   # sigmoid output: dL/dz = yhat - y
            delta = (a - y) * loss_factor
            top_done = True
        else:
            slope = 2.0 if loss == "squared" else 1.0
            delta = slope * loss_factor * (a - y)
            top_done = False
        wg, bg = [None] * len(weights), [None] * len(weights)
        for l in range(len(weights) - 1, -1, -1):
            layer = l + 1
            if not (top_done and l == len(weights) - 1):
                if layer in _layers(prime_of_a_layer):
                    delta = delta * _act_prime(activations[l], acts[l + 1])
                elif layer not in _layers(skip_fprime_layer):
                    delta = delta * _act_prime(activations[l], zs[l])
            g = delta.T @ acts[l] / m
            if layer == transpose_layer:
                g = (acts[l].T @ delta / m).reshape(g.shape)
            wg[l] = sign * g + noise * np.cos(1.0 + np.arange(g.size)).reshape(g.shape)
            bg[l] = sign * bias_sign * delta.sum(axis=0) / m
            delta = delta @ weights[l]
        return wg, (bg if biases else [])

    return backprop
