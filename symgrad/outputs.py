"""The output layer and the cost: losses, the softmax output, L2 regularisation.

This module imports no SymPy; :mod:`symgrad.spec` uses it to validate a network,
and the three independent gradient references read what it decides through the
spec.  What each name means:

Losses (per sample, summed over the output neurons ``j``; ``yhat_j = a{L}{j}``)
    ``half-squared``: ``(y_j - yhat_j)**2 / 2``;  ``squared``: ``(y_j - yhat_j)**2``;
    ``bce``: ``-(y_j log yhat_j + (1 - y_j) log(1 - yhat_j))``, the binary
    cross-entropy of sigmoid outputs;  ``cross-entropy``: ``-sum_j y_j log yhat_j``,
    the categorical cross-entropy of a softmax output.

Cross-entropy targets
    ``y = (y1, ..., yK)`` is a probability vector: every entry in [0, 1], the
    entries summing to 1 (a one-hot row is the usual case).  The symbolic network
    takes the last target to be one minus the others, ``yK = 1 - y1 - ... -
    y{K-1}``, so that the textbook identity ``dL/dz{L}{j} = a{L}{j} - y_j`` is an
    identity in symbols, not only when the data happen to sum to 1.  Numeric
    gradient functions read all K columns and refuse rows that do not sum to 1
    (within :data:`TARGET_SUM_TOL`).

Softmax
    ``a{L}{j} = exp(z{L}{j}) / sum_k exp(z{L}{k})`` couples the output neurons, so it
    is an output activation only, for at least two outputs, and goes with the
    cross-entropy loss (the default loss of a softmax network); its derivative is a
    Jacobian, ``da{L}{j}/dz{L}{k} = a{L}{j} (delta_jk - a{L}{k})``.

L2 regularisation
    ``l2 = lambda > 0`` adds ``(lambda/2) * sum w**2`` over every weight (and over the
    biases too with ``l2_bias=True``) to the per-sample loss, hence to the cost
    ``C = (1/m) sum_i L_i``; each penalised parameter's gradient gains ``lambda * w``.
"""

from __future__ import annotations

import math

import numpy as np

from symgrad.errors import ShapeError, SpecError, SpecTypeError
from symgrad.naming import choices_message

#: Loss names (see the module notes).
LOSSES = ("half-squared", "squared", "bce", "cross-entropy")
#: Activations only an output layer can have: they couple its neurons.
OUTPUT_ONLY = ("softmax",)
#: How far a cross-entropy target row may sum away from 1 (and an entry leave [0, 1]).
TARGET_SUM_TOL = 1e-9
#: Largest L2 coefficient accepted (a larger one only shrinks every weight to 0).
MAX_L2 = 1e6


def default_loss(output_activation: str) -> str:
    """The loss a network gets when none is named: cross-entropy for softmax."""
    return "cross-entropy" if output_activation == "softmax" else "half-squared"


def check_output(output_activation: str, loss: str, n_outputs: int) -> None:
    """Refuse an output activation and loss that do not go together."""
    if loss not in LOSSES:
        raise SpecError(choices_message("loss", loss, LOSSES))
    if loss == "bce" and output_activation != "sigmoid":
        raise SpecError("loss 'bce' needs outputs in (0, 1): use output_activation='sigmoid' "
                        f"(got {output_activation!r})")
    if loss == "cross-entropy" and output_activation != "softmax":
        hint = (" (for sigmoid outputs use loss='bce')" if output_activation == "sigmoid"
                else "")
        raise SpecError("loss 'cross-entropy' needs a probability vector out: use "
                        f"output_activation='softmax' (got {output_activation!r}){hint}")
    if output_activation == "softmax":
        if n_outputs < 2:
            raise SpecError("a softmax output needs at least 2 output neurons (one neuron's "
                            "softmax is always 1); for one probability use "
                            "output_activation='sigmoid' with loss='bce'")
        if loss != "cross-entropy":
            raise SpecError(f"a softmax output goes with loss='cross-entropy' (got {loss!r}); "
                            "symgrad supports no other loss on a softmax")


def check_l2(l2: object, l2_bias: object) -> tuple[float, bool]:
    """Validate the L2 coefficient and the bias flag; return them as float and bool."""
    if isinstance(l2, (bool, np.bool_)) or not isinstance(l2, (int, float, np.integer,
                                                                np.floating)):
        raise SpecTypeError(f"l2 must be a number (the lambda of (lambda/2) sum w**2), "
                            f"got {type(l2).__name__} {l2!r}")
    value = float(l2)
    if not math.isfinite(value) or not 0.0 <= value <= MAX_L2:
        raise SpecError(f"l2 must be a number from 0 to {MAX_L2:g}, got {l2!r}")
    if not isinstance(l2_bias, bool):
        raise SpecTypeError(f"l2_bias must be True or False, got {l2_bias!r}")
    return value, l2_bias


def check_targets(loss: str, Y: np.ndarray) -> None:
    """Refuse cross-entropy target rows that are not probability vectors.

    ``Y`` is (m, K), already float64.  Other losses take any real targets.
    """
    if loss != "cross-entropy":
        return
    tol = TARGET_SUM_TOL
    bad = np.flatnonzero((Y < -tol).any(axis=1) | (Y > 1 + tol).any(axis=1)
                         | ~np.isfinite(Y).all(axis=1)
                         | (np.abs(Y.sum(axis=1) - 1.0) > tol * Y.shape[1]))
    if bad.size:
        row = int(bad[0])
        raise ShapeError(f"y row {row} is {Y[row].tolist()[:8]}: cross-entropy targets are "
                         "probability vectors, entries in [0, 1] summing to 1 (one-hot rows "
                         "for classes)")
