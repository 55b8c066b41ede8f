"""Tools for your own tests: is your hand-written backprop right?

:func:`assert_backprop_matches` calls your gradient function on several random
parameter sets and batches, compares every entry with the exact gradient (the
compiled symbolic gradient of :func:`symgrad.compile_gradients`), and on a
mismatch raises :class:`BackpropMismatch`, an ``AssertionError`` whose message
names the entries that disagree, shows both values aligned, and says what the
bug probably is (wrong sign, missing 1/m, the 1/2 of the loss, a transposed
matrix, a missing activation derivative, which layer) with the smallest failing
case it could find.

>>> import numpy as np
>>> from symgrad import Network
>>> def my_backprop(weights, biases, X, y):       # 2-2-1 linear net, no biases
...     W1, W2 = weights
...     a1 = X @ W1.T
...     delta2 = (a1 @ W2.T - y) / len(X)        # dC/dz2 of C = mean of (yhat - y)**2/2
...     delta1 = delta2 @ W2
...     return [delta1.T @ X, delta2.T @ a1], []
>>> assert_backprop_matches(my_backprop, Network([2, 2, 1]))
"""

from symgrad.testing.assertions import (
    ATOL,
    BATCHES,
    RTOL,
    TIMEOUT,
    BackpropMismatch,
    BackpropTimeout,
    assert_backprop_matches,
)
from symgrad.testing.layouts import LAYOUTS, GradientFormatError

__all__ = [
    "ATOL",
    "BATCHES",
    "LAYOUTS",
    "RTOL",
    "TIMEOUT",
    "BackpropMismatch",
    "BackpropTimeout",
    "GradientFormatError",
    "assert_backprop_matches",
]
