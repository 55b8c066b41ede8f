"""Classification data: a class column as one-hot targets, and the accuracy of a fit.

This module imports no SymPy.  A data file for a classifier gives its targets in
one of two ways:

* one-hot (or probability) columns ``y1, ..., yK``, read by
  :func:`symgrad.training.data.load_csv` as any other targets;
* one column of class indices, named with ``--target-class COLUMN``
  (:func:`class_targets`): integers ``0 .. K-1``, class ``c`` being output neuron
  ``c + 1`` (target ``y{c+1}``); every other column is an input.

:func:`accuracy` is what :func:`symgrad.training.train` reports beside the cost for
the classification losses: the share of samples whose largest output is the
class with the largest target (``cross-entropy``), or of outputs on the right
side of 1/2 (``bce``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symgrad.errors import DataError
from symgrad.references.backprop import forward
from symgrad.training.data import Dataset

#: The losses a fit is scored by accuracy for.
CLASSIFICATION_LOSSES = ("bce", "cross-entropy")


def class_targets(data: Dataset, column: str, n_classes: int) -> Dataset:
    """``data`` with the class-index column ``column`` turned into one-hot targets.

    The other columns (inputs and targets as :func:`~symgrad.training.data.load_csv`
    read them) become the inputs, inputs first.

    Examples
    --------
    >>> X = np.array([[0.5, 2.0], [1.5, 0.0]])
    >>> data = Dataset(X, np.array([1.0, 3.0]), ("x", "label"), ("y",), "f.csv")
    >>> hot = class_targets(data, "label", 3)
    >>> hot.X.tolist(), hot.y.tolist(), hot.target_names
    ([[0.5, 1.0], [1.5, 3.0]], [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], ('y1', 'y2', 'y3'))
    """
    y2 = data.y.reshape(data.n_samples, -1)
    names = list(data.input_names) + list(data.target_names)
    table = np.column_stack([data.X, y2])
    lower = [n.lower() for n in names]
    if column.lower() not in lower:
        raise DataError(f"--target-class {column!r}: {data.source} has no such column "
                        f"(columns: {', '.join(names)})")
    at = lower.index(column.lower())
    labels = table[:, at]
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0) | (labels >= n_classes))
    if bad.size:
        raise DataError(f"{data.source}, sample {int(bad[0]) + 1}: class {labels[bad[0]]:g} in "
                        f"column {names[at]!r} is not an integer from 0 to {n_classes - 1} "
                        f"(the network has {n_classes} outputs, one per class)")
    keep = [i for i in range(len(names)) if i != at]
    onehot = np.eye(n_classes)[labels.astype(int)]
    return replace(data, X=np.ascontiguousarray(table[:, keep]), y=onehot,
                   input_names=tuple(names[i] for i in keep),
                   target_names=tuple(f"y{j}" for j in range(1, n_classes + 1)))


def accuracy(spec, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float | None:
    """Share of right answers of the network on ``(X, Y)``, or None for a regression loss.

    ``cross-entropy``: the output with the largest activation is the target with
    the largest value (ties: the first).  ``bce``: each output and its target are
    on the same side of 1/2.
    """
    if spec.loss not in CLASSIFICATION_LOSSES:
        return None
    with np.errstate(all="ignore"):
        out = forward(spec, np.asarray(params, float), np.asarray(X, float))[1][-1]
    Y = np.asarray(Y, float).reshape(out.shape)
    if spec.loss == "cross-entropy":
        return float(np.mean(out.argmax(axis=1) == Y.argmax(axis=1)))
    return float(np.mean((out >= 0.5) == (Y >= 0.5)))
