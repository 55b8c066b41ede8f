"""The linear baseline: least squares, and linear maps as JSON-ready dicts.

:func:`least_squares` is what a linear network's training is compared with
(:mod:`symgrad.training.train`).  It works on data of any scale the float64
range holds: data far from 1 in size (beyond 2**+-500, about 1e+-150) are scaled
by a power of two before the solve and the rank (exact in binary, so nothing
else changes; ``matrix_rank`` of data near 1e308 overflows and would call any
data "rank 0").  A cost past the float64 range is ``inf`` without a numpy
warning; the caller says so in words (:func:`float_note`).

This module imports no SymPy.
"""

from __future__ import annotations

import numpy as np


def linear_map(coefficients, intercept, *, split=None) -> dict:
    """A linear map ``y = C x + b`` as a JSON-ready dict (see :func:`least_squares`).

    ``coefficients`` is (k, n), ``intercept`` (k,).  Keys: ``coefficients``
    ({"x1": ..., ...}), ``intercept`` and, with ``split`` = a, ``slope`` =
    ``a*c1 + (1-a)*c2`` on the original x.  Values are floats for one output and
    lists (one entry per output) for several.
    """
    C = np.atleast_2d(np.asarray(coefficients, dtype=float))
    b = np.atleast_1d(np.asarray(intercept, dtype=float))

    def out(values):
        values = [float(v) for v in values]
        return values[0] if len(values) == 1 else values

    result = {"coefficients": {f"x{k + 1}": out(C[:, k]) for k in range(C.shape[1])},
              "intercept": out(b)}
    if split is not None and C.shape[1] == 2:
        result["slope"] = out(split * C[:, 0] + (1.0 - split) * C[:, 1])
    return result


def _scale(a: np.ndarray) -> np.ndarray:
    """Per column, a power of two that brings the column's ``max |a|`` near 1 when it
    is far from 1 (beyond 2**+-500), else 1.0: ordinary data are left exactly alone."""
    a = np.atleast_2d(a.T).T if a.ndim == 1 else a
    top = np.max(np.abs(a), axis=0) if a.shape[0] else np.zeros(a.shape[1])
    far = np.isfinite(top) & (top > 0) & ((top >= 2.0**500) | (top <= 2.0**-500))
    # 2**1000 at most: a subnormal column (1e-320) is brought to about 1e-19, not to inf
    return np.where(far, np.ldexp(1.0, np.minimum(-np.frexp(top)[1], 1000)), 1.0)


def input_rank(X) -> int:
    """Rank of the input columns, right at any scale (see the module notes)."""
    X = np.asarray(X, dtype=float)
    with np.errstate(all="ignore"):
        return int(np.linalg.matrix_rank(X * _scale(X)))


def float_note(where: str, largest: float) -> str:
    """Words for a value past the float64 range, e.g. in the least-squares cost."""
    return (f"some values overflowed past the largest float64 (about 1.8e308) in {where}: "
            f"the data reach {largest:.3g}, and their squares do not fit in float64; "
            "rescale the data (divide X and y by a power of 10)")


def least_squares(X, y, *, intercept=False, split=None, loss="half-squared") -> dict:
    """The best linear fit of the data, by ``numpy.linalg.lstsq``.

    With collinear inputs (the seed's split) lstsq returns the smallest-norm
    coefficients; only combinations such as the slope on x are meaningful then.

    Returns
    -------
    dict
        :func:`linear_map` keys plus ``rank`` (of the inputs, without the
        intercept column) and ``cost`` (the mean ``loss`` of the fit: the lowest
        cost any linear map reaches on these data; ``inf`` past the float64 range).

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0])
    >>> fit = least_squares(np.column_stack([0.5 * x, 0.5 * x]), 2 * x + 1, intercept=True,
    ...                     split=0.5)
    >>> round(fit["slope"], 12), round(fit["intercept"], 12), fit["rank"]
    (2.0, 1.0, 1)
    >>> huge = least_squares(1e307 * x[:, None], 2e307 * x + 3e306, intercept=True)
    >>> round(huge["coefficients"]["x1"], 12), float(f"{huge['intercept']:.12g}"), huge["rank"]
    (2.0, 3e+306, 1)
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(y, dtype=float).reshape(X.shape[0], -1)
    with np.errstate(all="ignore"):
        A = np.column_stack([X, np.ones(X.shape[0])]) if intercept else X
        sa, sy = _scale(A), _scale(Y)
        solution = np.linalg.lstsq(A * sa, Y * sy, rcond=None)[0] * np.outer(sa, 1 / sy)
        C = solution[:X.shape[1]].T
        b = solution[X.shape[1]] if intercept else np.zeros(Y.shape[1])
        r = (Y - (X @ C.T + b)) * sy
        sq = float(np.mean(np.sum(r * r / sy / sy, axis=1)))    # inf past float64
    result = linear_map(C, b, split=split)
    result["rank"] = input_rank(X)
    result["cost"] = sq / 2 if loss == "half-squared" else sq
    return result
