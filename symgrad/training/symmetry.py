"""Where training starts, and the symmetry between sibling neurons.

Two hidden neurons of one layer are *siblings*.  :func:`initial_parameters` with
``"symmetric"`` starts every sibling with the same incoming weights, bias and
outgoing weights; the chain rule then keeps them identical under gradient
descent.  :func:`siblings_identical` checks that to the last bit, and
:func:`sibling_equalities` writes the equalities it means (``w111 = w121``).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import SpecError, SpecTypeError
from symgrad.spec import choices_message, symbol_name

#: The named starting points.
INITS = ("random", "symmetric", "zeros")


def initial_parameters(spec, init="random", seed=0) -> np.ndarray:
    """Starting parameters in ``net.parameters`` order.

    ``random``: weights N(0, 1/fan_in), biases 0.  ``symmetric``: the same draw
    shared by all neurons of each hidden layer (identical incoming and outgoing
    weights), biases 0.  ``zeros``: everything 0.  Draws come from
    ``numpy.random.default_rng(seed)``.

    Examples
    --------
    >>> from symgrad import Network
    >>> p = initial_parameters(Network([2, 2, 1]).spec, "symmetric", seed=0)
    >>> bool(p[0] == p[2] and p[1] == p[3] and p[4] == p[5])
    True
    """
    if isinstance(init, str) and init not in INITS:
        raise SpecError(choices_message("init", init, INITS))
    rng = np.random.default_rng(seed)
    L, parts = spec.depth, []
    for l in range(1, L + 1):
        n_out, n_in = spec.widths[l], spec.widths[l - 1]
        scale = 1.0 / np.sqrt(n_in)
        if init == "zeros":
            W = np.zeros((n_out, n_in))
        elif init == "random" or L == 1:
            W = rng.normal(scale=scale, size=(n_out, n_in))
        elif l == 1:          # siblings share their incoming weights: equal rows
            W = np.tile(rng.normal(scale=scale, size=(1, n_in)), (n_out, 1))
        elif l == L:          # ... and their outgoing weights: equal columns
            W = np.tile(rng.normal(scale=scale, size=(n_out, 1)), (1, n_in))
        else:                 # both at once: one value for the whole matrix
            W = np.full((n_out, n_in), rng.normal(scale=scale))
        parts.append(W.ravel())
    parts.append(np.zeros(spec.n_biases))
    return np.concatenate(parts)


def layers(spec, p):
    """Weight matrices and bias vectors (views into ``p``; zeros without bias)."""
    Ws, bs = [], []
    for l in range(1, spec.depth + 1):
        Ws.append(p[spec.weight_slice(l)].reshape(spec.widths[l], spec.widths[l - 1]))
        bs.append(p[spec.bias_slice(l)] if spec.bias else np.zeros(spec.widths[l]))
    return Ws, bs


def hidden_layers(spec) -> list:
    """Hidden layers (1-based) with two or more neurons: the ones with siblings."""
    return [l for l in range(1, spec.depth) if spec.widths[l] >= 2]


def sibling_gap(spec, p) -> float:
    """Largest difference between sibling neurons' weights/biases (0.0: identical)."""
    Ws, bs = layers(spec, p)
    gap = 0.0
    for l in hidden_layers(spec):
        W_in, W_out, b = Ws[l - 1], Ws[l], bs[l - 1]
        gap = max(gap, float(np.abs(W_in - W_in[:1]).max()),
                  float(np.abs(W_out - W_out[:, :1]).max()), float(np.abs(b - b[0]).max()))
    return gap


def siblings_identical(spec, p) -> bool:
    """True when every hidden layer's neurons are identical to the last bit."""
    Ws, bs = layers(spec, p)
    for l in hidden_layers(spec):
        W_in, W_out, b = Ws[l - 1], Ws[l], bs[l - 1]
        if not ((W_in == W_in[:1]).all() and (W_out == W_out[:, :1]).all() and (b == b[0]).all()):
            return False
    return True


def sibling_equalities(spec) -> list:
    """The equalities that symmetry means, e.g. ``["w111 = w121", ...]`` for 2-2-1."""
    out = []
    for l in hidden_layers(spec):
        n = spec.widths[l]
        for k in range(1, spec.widths[l - 1] + 1):
            out.append(" = ".join(symbol_name("w", l, j, k) for j in range(1, n + 1)))
        if spec.bias:
            out.append(" = ".join(symbol_name("b", l, j) for j in range(1, n + 1)))
        for j in range(1, spec.widths[l + 1] + 1):
            out.append(" = ".join(symbol_name("w", l + 1, j, k) for k in range(1, n + 1)))
    return out


def start(spec, init, seed):
    """The starting parameters of ``init`` (a name or an array) and how to call them."""
    if isinstance(init, str):
        return initial_parameters(spec, init, seed), init
    try:
        p0 = np.array(init, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SpecTypeError(f"init must be one of {', '.join(INITS)} or an array of "
                            f"{spec.n_parameters} numbers, got {type(init).__name__}") from None
    if p0.shape != (spec.n_parameters,) or not np.isfinite(p0).all():
        raise SpecError(f"init array must hold {spec.n_parameters} finite values in "
                        f"net.parameters order, got shape {np.shape(init)}")
    return p0, "given"
