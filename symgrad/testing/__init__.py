"""Tools for your own tests: is your hand-written backprop right?

:func:`assert_backprop_matches` checks your gradient function against the exact
gradient and, on a mismatch, says which entries disagree and what the bug probably
is; the details and an example are in :mod:`symgrad.testing.assertions`.
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
